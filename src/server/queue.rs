//! The bounded generation queue: at most `generators` generations run at
//! once and at most `max_waiting` requests wait (first come, first served).
//! A full queue refuses at once, so the caller can answer 503 with
//! `Retry-After`; a waiting request can ask for its position.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull {
    pub waiting: usize,
}

pub struct Queue {
    sem: Arc<Semaphore>,
    waiting: Mutex<VecDeque<u64>>,
    next: AtomicU64,
    running: AtomicUsize,
    generators: usize,
    max_waiting: usize,
}

/// A place in the queue. Dropping it leaves the queue.
pub struct Ticket {
    id: u64,
    queue: Arc<Queue>,
}

/// The right to generate now. Dropping it lets the next one in.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    queue: Arc<Queue>,
}

impl Queue {
    pub fn new(generators: usize, max_waiting: usize) -> Arc<Queue> {
        let generators = generators.max(1);
        Arc::new(Queue {
            sem: Arc::new(Semaphore::new(generators)),
            waiting: Mutex::new(VecDeque::new()),
            next: AtomicU64::new(1),
            running: AtomicUsize::new(0),
            generators,
            max_waiting,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<u64>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Join the queue, or fail at once when `max_waiting` requests already wait
    /// behind busy generators.
    pub fn enqueue(self: &Arc<Self>) -> Result<Ticket, QueueFull> {
        let mut w = self.lock();
        let free = self
            .generators
            .saturating_sub(self.running.load(Ordering::SeqCst));
        if w.len() >= self.max_waiting + free {
            return Err(QueueFull { waiting: w.len() });
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        w.push_back(id);
        Ok(Ticket {
            id,
            queue: self.clone(),
        })
    }

    /// Requests waiting now.
    pub fn depth(&self) -> usize {
        self.lock().len()
    }

    /// Generations running now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    pub fn generators(&self) -> usize {
        self.generators
    }

    pub fn max_waiting(&self) -> usize {
        self.max_waiting
    }
}

impl Ticket {
    /// 1 = next in line; 0 = no longer waiting.
    pub fn position(&self) -> usize {
        self.queue
            .lock()
            .iter()
            .position(|t| *t == self.id)
            .map(|p| p + 1)
            .unwrap_or(0)
    }

    /// A probe of this ticket's position that outlives the ticket (0 once gone).
    pub fn position_probe(&self) -> impl Fn() -> usize + Send + 'static {
        let (queue, id) = (self.queue.clone(), self.id);
        move || {
            queue
                .lock()
                .iter()
                .position(|t| *t == id)
                .map(|p| p + 1)
                .unwrap_or(0)
        }
    }

    /// Wait for a free generator (`None` only if the queue was shut down).
    pub async fn admit(self) -> Option<Slot> {
        let queue = self.queue.clone();
        let permit = queue.sem.clone().acquire_owned().await.ok()?;
        queue.running.fetch_add(1, Ordering::SeqCst);
        drop(self); // leaves the waiting list
        Some(Slot {
            _permit: permit,
            queue,
        })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut w = self.queue.lock();
        if let Some(p) = w.iter().position(|t| *t == self.id) {
            w.remove(p);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.queue.running.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_fifo_with_positions() {
        let q = Queue::new(1, 2);
        let a = q.enqueue().expect("first");
        let slot_a = a.admit().await.expect("slot");
        assert_eq!(q.running(), 1);
        let b = q.enqueue().expect("second waits");
        let c = q.enqueue().expect("third waits");
        assert_eq!(q.enqueue().err(), Some(QueueFull { waiting: 2 }));
        assert_eq!((b.position(), c.position()), (1, 2));
        drop(b); // gave up
        assert_eq!(c.position(), 1);
        let waiter = tokio::spawn(async move { c.admit().await });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(slot_a);
        let slot_c = waiter.await.expect("joined").expect("admitted");
        assert_eq!((q.running(), q.depth()), (1, 0));
        drop(slot_c);
        assert_eq!(q.running(), 0);
    }
}
