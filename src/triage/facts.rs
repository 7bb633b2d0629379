//! Facts of a case read from the question: who, what happened, what is asked.
//!
//! Each fact keeps the words that triggered it, so every later decision can say
//! why. The word lists are legal vocabulary and everyday paraphrases of it;
//! they are written from the law, not from any labelled case.

use super::signals::{self, Text};

/// Words that found a fact (empty: the fact is absent).
pub type Found = Option<&'static str>;

/// What the triage rules know about one question.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The question with injection sentences removed (what is triaged), normalised.
    pub legal_text: String,
    /// `legal_text` without clauses that only state a condition ("要是……").
    pub factual_text: String,
    pub injection: Found,
    pub out_of_scope: Found,
    pub foreign_law: Found,
    pub illegal_request: Found,
    pub has_legal_content: bool,

    // Danger and crime.
    pub imminent: Found,
    pub suicide: Found,
    pub domestic_violence: Found,
    pub threat: Found,
    pub fraud_now: Found,
    pub crime: Found,
    pub detained: Found,
    pub police_inaction: Found,
    pub assaulted: Found,

    // Who.
    pub child: Found,
    pub minor_age: Option<u32>,
    pub child_harmed: Found,
    pub elderly: Found,
    pub disabled: Found,
    pub hardship: Found,
    pub migrant: Found,
    pub hero: Found,
    pub martyr_family: Found,
    pub group: Option<String>,
    pub amount: Option<f64>,

    // Legal aid as a topic.
    pub aid_words: Found,
    pub aid_refused: Found,
    pub aid_lawyer_complaint: Found,
    pub aid_general_question: Found,

    // Question form.
    pub knowledge_q: Found,
    pub action_q: Found,
    pub hypothetical_only: bool,

    // Labour and land.
    pub labor_ctx: Found,
    pub labor_harm: Found,
    pub wage_arrears: Found,
    pub contractor: Found,
    pub work_injury: Found,
    pub no_social_insurance: Found,
    pub child_work: Found,
    pub land_contract: Found,
    pub award_challenge: Found,
    pub missing_person: Found,
    pub land_taking: Found,
    pub environment: Found,
    pub admin_refusal: Found,
    pub labor_relation_denied: Found,
    pub contract_dispute: Found,
    pub report_intent: Found,
    pub child_abuse: Found,
    pub remote_principal: Found,
    pub notarize_intent: Found,
    pub appeal: Found,
    pub consumer_dispute: Found,
    /// An impersonal question about a rule ("试用期可以不交社保吗").
    pub rule_question: bool,
    /// The asker asks whether they themselves may do something ("我能去同行上班吗").
    pub self_permission_q: bool,

    // Administrative.
    pub admin_penalty: Found,
    pub reconsideration_to_court: Found,
    pub reconsideration: Found,
    pub hearing: Found,
    pub consumer: Found,
    pub business_gone: Found,
    pub consumer_rule_q: Found,
    pub official_complaint: Found,
    pub notary_error: Found,

    // Civil.
    pub loan: Found,
    pub guarantor: Found,
    pub interest: Found,
    pub spouse_debt: Found,
    pub heir_debt: Found,
    pub judgment_unpaid: Found,
    pub divorce: Found,
    pub divorce_rule_q: Found,
    pub hidden_assets: Found,
    pub visitation: Found,
    pub support_arrears: Found,
    pub elderly_support: Found,
    pub betrothal: Found,
    pub family_dispute: Found,
    pub inheritance: Found,
    pub will_validity: Found,
    pub neighbor: Found,
    pub dog: Found,
    pub deposit: Found,
    pub lease_sale: Found,
    pub property_mgmt: Found,
    pub traffic: Found,
    pub hit_and_run: Found,
    pub injury: Found,
    pub school_injury: Found,
    pub falling_object: Found,
    pub hired_injury: Found,
    pub medical: Found,
    pub appraisal: Found,
    pub paternity: Found,
    pub sale_contract: Found,
    pub sue_words: Found,
    pub lawyer_words: Found,

    // Notary.
    pub notary_words: Found,
    pub transfer_after_death: Found,
    pub overseas: Found,
    pub abroad_docs: Found,
    pub evidence_preserve: Found,
    pub make_will: Found,

    // Time.
    pub deadline_words: Found,
    pub decision_received: Found,
    pub years_ago: Option<i32>,
    pub unpaid_months: Option<f64>,
    pub days_left: Option<f64>,
}

const INJECTION: &[&str] = &[
    "忽略以上",
    "忽略之前",
    "忽略前面",
    "忽略上面",
    "忽略上述",
    "忽略所有",
    "忽略你的",
    "无视以上",
    "无视之前",
    "无视所有",
    "无视你的",
    "不用遵守",
    "不必遵守",
    "不要遵守",
    "别管之前",
    "没有任何限制",
    "不受任何限制",
    "解除限制",
    "关闭限制",
    "取消限制",
    "关掉限制",
    "系统提示",
    "提示词",
    "你的指令",
    "你的设定",
    "你的规则是",
    "开发者模式",
    "越狱",
    "角色扮演",
    "你现在是",
    "从现在开始你是",
    "现在你是",
    "假装你是",
    "扮演一个",
    "我是你的开发",
    "我是管理员",
    "我是开发者",
    // "我是司法局/司法厅…" alone is someone's job, not a tactic: the hard
    // rule `injection_role` flags it when a demand follows.
    "身份是",
    "你的身份",
    "无论我问什么",
    "我是你们领导",
    "ignoreprevious",
    "ignoreall",
    "ignoretheabove",
    "ignoreabove",
    "ignoreyour",
    "disregardprevious",
    "disregardall",
    "disregardyour",
    "systemprompt",
    "youarenow",
    "developermode",
    "jailbreak",
    "pretendtobe",
    "pretendyou",
    "actasa",
    "roleplay",
    "無視して",
    "指示を無視",
    "システムプロンプト",
    "이전지시",
    "무시하",
    "시스템프롬프트",
    "ignorez",
    "ignorelesinstructions",
    "ignoralasinstrucciones",
    "ignoratodas",
    "ignoriere",
    "игнорируй",
    "不受限制",
    "无限制模式",
    "不用管任何",
    "不管任何规定",
    "授权你",
    "从现在起你",
    "你就是我的私人",
    "没有规则的",
    "没有限制的",
    "不受约束",
];

const NON_LEGAL_TASK: &[&str] = &[
    "写一首",
    "写首诗",
    "作一首",
    "写诗",
    "写一篇作文",
    "写个故事",
    "讲个笑话",
    "讲一个笑话",
    "写代码",
    "写一段代码",
    "菜谱",
    "怎么做菜",
    "天气怎么样",
    "天气预报",
    "翻译成英文",
    "推荐股票",
    "哪只股票",
    "能涨的股票",
    "股票推荐",
    "彩票号码",
    "算命",
    "星座",
    "数学题",
    "好吃",
    "食谱",
    "怎么炒",
    "怎么煮",
    "减肥",
    "旅游攻略",
    "景点",
    "电影推荐",
    "歌词",
    "翻译",
    "python",
    "javascript",
    "分数线",
    "录取线",
    "高铁",
    "火车票",
    "航班",
    "请假条",
    "简历",
    "起名字",
    "取名字",
    "想几个名字",
    "公司名字",
    "演讲稿",
    "作文",
    "发言稿",
];

const FOREIGN: &[&str] = &[
    "美国",
    "加州",
    "纽约",
    "英国",
    "日本",
    "韩国",
    "德国",
    "法国",
    "加拿大",
    "澳大利亚",
    "新加坡",
    "泰国",
    "俄罗斯",
    "意大利",
    "西班牙",
    "欧盟",
];

const LEGAL_CONTENT: &[&str] = &[
    "法",
    "律",
    "权",
    "赔",
    "告",
    "诉",
    "合同",
    "借",
    "欠",
    "钱",
    "工资",
    "离婚",
    "遗",
    "房",
    "罚",
    "打",
    "骗",
    "警",
    "公证",
    "鉴定",
    "仲裁",
    "调解",
    "援助",
    "违",
    "责任",
    "孩子",
    "老板",
    "公司",
    "怎么办",
    "社保",
    "试用期",
    "租",
    "婚",
    "债",
    "继承",
    "证",
    "判",
    "保险",
    "单位",
    "邻居",
    "物业",
    "被",
    "担保",
    "贷款",
    "银行",
    "还吗",
    "要我还",
    "转了",
];

const CHILD: &[&str] = &[
    "孩子",
    "儿子",
    "女儿",
    "未成年",
    "小孩",
    "学生",
    "小学",
    "初中",
    "中学",
    "年级",
    "幼儿园",
    "孙子",
    "孙女",
    "外孙",
    "娃",
    "初中生",
    "高中生",
    "小学生",
    "中学生",
    "侄子",
    "侄女",
    "外甥",
    // Hubei (Ezhou, Wuhan) speech: 伢, 小伢 = child.
    "伢",
];

const DANGER_NOW: &[&str] = &[
    "救命",
    "拿着刀",
    "拿刀",
    "菜刀",
    "砍门",
    "在砍",
    "要杀",
    "杀了我",
    "弄死我",
    "打死我",
    "要弄死",
    "要打死",
    "正在打",
    "正在砍",
    "还在打",
    "满脸是血",
    "头破血流",
    "锁在屋",
    "躲在",
    "掐我脖子",
    "持刀",
    "砸死",
    "砍死",
    "捅死",
    "烧死",
    "掐死",
    "砸门",
    "绑架",
    "赎金",
    "被拐",
    "拐走",
    "失踪",
    "走失",
    "抢了包",
    "被抢了",
    "一直跟着我",
    "还跟着我",
    "跟着我走",
    "砸店",
    "踹门",
    // Held against one's will right now.
    "关在一个屋",
    "关在屋里",
    "关在房间",
    "把我关",
    "被关起来",
    "关起来了",
    "非法拘禁",
    "限制人身自由",
    "限制我的人身自由",
    "锁在卫生间",
    "锁在厕所",
    "刚又打",
    "刚才又打",
    "又打了我一顿",
    "动手推我",
    "走丢",
    "汽油",
    "一起死",
    "同归于尽",
    "人贩子",
    "拉上车",
    "抢走了孩子",
    "敲门也不应",
    "敲门没人应",
    "有股味道",
    "好几天没出门",
    // A grave injury happening now: call 120.
    "大出血",
    "血流不止",
    "昏迷",
    "不省人事",
    "没有呼吸",
    "没了呼吸",
    "压着出不来",
    "压在下面",
    "满地的血",
    "满身是血",
];

/// The present moment.
const NOW: &[&str] = &["现在", "正在", "此刻", "就在", "还在", "这会儿"];

/// An attack or a weapon.
const VIOLENCE_NOW: &[&str] = &[
    "拿刀",
    "拿着刀",
    "砍",
    "砸门",
    "掐",
    "踹门",
    "闯进",
    "打我",
    "动手打",
    "放火",
    "堵在门口",
    "砸我",
    "砸她",
    "砸他",
    "打我妈",
    "打我爸",
    "打她",
    "拿凳子",
    "拿棍子",
    "拿砖",
];

const SUICIDE: &[&str] = &[
    "不想活",
    "活不下去",
    "想自杀",
    "自杀",
    "轻生",
    "想死",
    "跳楼",
    "割腕",
    "撑不下去",
    "一死了之",
    "遗书",
    "寻死",
    "自残",
    "想不开",
    "活着没意思",
    "活着没什么意思",
    "遗言",
    "安眠药",
    "吞了",
    "喝农药",
    "喝药",
    "一起死",
    "同归于尽",
    "寻短见",
    "一了百了",
    "死了算了",
    "了结自己",
    "都了结了",
    "活着太累",
];

const DV: &[&str] = &[
    "家暴",
    "家庭暴力",
    "打我",
    "动手",
    "打老婆",
    "打伤我",
    "把我打",
    "打得我",
    "被他打",
    "被老公打",
    "被丈夫打",
    "被我爸打",
    "被打了",
    "关在家",
    "不让出门",
    "非法拘禁",
    "被我妈打",
    "被父亲打",
    "被继父打",
    "还在打",
    "满脸是血",
    "打孩子",
    "虐待",
    "遗弃",
    "打了我一顿",
    "又打了我",
    "刚又打",
    "打我一顿",
    "抽我",
    "拿衣架",
    "掐我",
    "踹我",
    "挨打",
    "被打到",
    "打到住院",
];

const FAMILY_ABUSER: &[&str] = &[
    "老公",
    "丈夫",
    "老婆",
    "妻子",
    "男朋友",
    "女朋友",
    "前夫",
    "前妻",
    "对象",
    "公公",
    "婆婆",
    "儿子",
    "儿媳",
    "他爸",
    "我爸",
    "我妈",
    "父亲",
    "母亲",
    "继父",
    "后妈",
    "继母",
    "家里人",
    "结婚",
    "离婚",
];

const THREAT: &[&str] = &[
    "威胁",
    "恐吓",
    "扬言",
    "去学校找",
    "到学校找",
    "孩子在哪",
    "上门闹",
    "泼油漆",
    "要报复",
    "跟踪我",
    "堵我",
    "抢回去",
    "把孩子抢",
    "放火",
    "烧了我家",
    "要砍",
    "报复",
    "要杀",
    "保护费",
    "裸照",
    "发到网上",
    "砸了你",
    "明天上门",
    "要上门",
    "知道我家住哪",
    "知道你家住哪",
    "今晚就来",
    "来找我算账",
    "门口蹲",
    "蹲守",
    "尾随",
    "要进来",
];

/// A child lured away or about to run off with a stranger.
const CHILD_DANGER: &[&str] = &[
    "离家出走",
    "网上认识",
    "网友",
    "私奔",
    "带她走",
    "带他走",
    "来接她",
    "来接他",
    "诱骗",
    "骗走",
];

const CHILD_ABUSE: &[&str] = &[
    "打孩子",
    "虐待孩子",
    "虐童",
    "身上都是伤",
    "身上全是伤",
    "不给孩子饭吃",
    "饿着孩子",
    "把孩子锁",
    "摸她",
    "摸孩子",
    "猥亵",
    "打伢",
    "打小孩",
    "打娃",
];

const FRAUD_NOW: &[&str] = &[
    "安全账户",
    "屏幕共享",
    "刚被骗",
    "刚刚被骗",
    "刚才被骗",
    "才反应过来",
    "刚转",
    "才发现不对",
    "冒充",
    "刚刚转",
    "刚才转",
    "自称是",
];

const CRIME: &[&str] = &[
    "刑事",
    "犯罪",
    "涉嫌",
    "诈骗",
    "被骗",
    "骗了",
    "骗子",
    "盗窃",
    "偷了",
    "偷东西",
    "偷车",
    "偷电",
    "被偷",
    "抢劫",
    "抢包",
    "抢了",
    "捅",
    "故意伤害",
    "强奸",
    "猥亵",
    "性侵",
    "贩毒",
    "吸毒",
    "醉驾",
    "酒驾",
    "坐牢",
    "判刑",
    "报案",
    "立案",
    "取保候审",
    "看守所",
    "拘留",
    "逮捕",
    "被抓",
    "抓了",
    "绑架",
    "敲诈",
    "勒索",
    "传销",
    "非法集资",
    "寻衅滋事",
    "杀人",
    "指控",
    "公诉",
    "移交公安",
    "移送公安",
    "移交给公安",
    "侦查",
    "虚开",
    "走私",
    "死刑",
    "无期",
    "罪",
    "顶包",
    "包庇",
    "作伪证",
    "职务侵占",
    "挪用",
    "保护费",
    "跑分",
    "摸我",
    "被抢",
    "裸照",
    "强制猥亵",
    "偷拍",
    "摸她",
    "摸孩子",
    "混混",
    "打砸",
    "砸了摊",
    "诬告",
    // Injury grades the police assess for a criminal case.
    "轻伤",
    "重伤",
    "伤情鉴定",
];

const MISSING: &[&str] = &["没回家", "找不到人了", "不见了", "失踪", "走失", "被拐"];

const DETAINED: &[&str] = &[
    "被带走",
    "抓起来",
    "关起来",
    "被关",
    "带到派出所",
    "带走了",
    "被抓",
    "抓了",
    "抓走",
    "拘留",
    "刑拘",
    "逮捕",
    "看守所",
    "关在",
    "关着",
    "在派出所",
    "取保候审",
    "涉嫌",
];

const POLICE_INACTION: &[&str] = &[
    "不给立案",
    "不予立案",
    "不立案",
    "不受理",
    "不给我立案",
    "不管我们",
    "经济纠纷",
    "不好追",
    "追不回来",
    "追不回",
];

const ASSAULT: &[&str] = &[
    "被打",
    "打了一顿",
    "打伤",
    "被人打",
    "打断",
    "揍了",
    "被捅",
    "捅了",
];

const HARM_WORDS: &[&str] = &[
    "骨折", "缝了", "流血", "被推", "推了", "撞到", "被打", "打了", "摔了", "受伤", "摔断", "摔伤",
    "推倒", "被打", "打伤", "咬", "烫伤", "欺负", "霸凌", "欺凌", "猥亵", "性侵", "失踪", "走失",
    "体罚", "打肿", "被骗", "卖烟", "卖酒", "烟酒", "摸她", "扎伤", "划伤", "割伤", "伤到", "碰伤",
    // Minors let into internet cafes (Minors Protection Law art. 58).
    "网吧",
];

const CHILD_WORK: &[&str] = &["打工", "上班", "干活", "童工", "做工", "进厂"];

const ELDERLY: &[&str] = &[
    "七十",
    "八十",
    "九十",
    "六十多",
    "老伴走",
    "老伴去世",
    "老人",
    "年纪大",
    "老年人",
    "孤寡",
    "腿脚不好",
];

const DISABLED: &[&str] = &[
    "残疾",
    "盲人",
    "失明",
    "聋",
    "哑",
    "视力残疾",
    "听力残疾",
    "精神病",
    "精神疾病",
    "精神障碍",
    "智力障碍",
    "智障",
    "痴呆",
];

const HARDSHIP: &[&str] = &[
    "请不起律师",
    "没钱请律师",
    "没有钱请律师",
    "没钱打官司",
    "打不起官司",
    "付不起律师",
    "请律师的钱",
    "经济困难",
    "生活困难",
    "家里困难",
    "低保",
    "特困",
    "五保",
    "几百块钱",
    "就几百块",
    "看病都没钱",
    "吃饭都成问题",
    "手里没钱",
    "没有收入",
    "没收入",
    "我没钱",
    "我们没钱",
    "家里没钱",
    "真的没钱",
    "下岗",
    "一分钱都没有",
    "身上没钱",
    "没工作也没收入",
    "撑不住了",
    "请不起",
    "没钱请",
    "付不起",
    "拿不出钱",
    "没有工作也没有",
    "没有收入来源",
    "没啥收入",
    "没什么收入",
    "没有什么收入",
    "没有任何收入",
    "没有经济来源",
    "没有任何经济来源",
    "哪请得起",
    "哪里请得起",
];

const MIGRANT: &[&str] = &[
    "农民工",
    "进城务工",
    "工地",
    "包工头",
    "老家出来",
    "外出务工",
    "务工人员",
    "工头",
    "老乡",
    "农村出来",
    "来打工",
    "过来打工",
    "外地来",
    "打工的",
    "一个村",
    "同村",
    "村里出来",
];

const HERO: &[&str] = &[
    "见义勇为",
    "帮人抓",
    "抓小偷",
    "救人",
    "救落水",
    "制止",
    "挺身而出",
    "帮忙抓",
];

const MARTYR: &[&str] = &["烈士", "英烈", "英雄"];

const AID: &[&str] = &["法律援助", "法援", "援助律师", "援助中心", "指派律师"];

const AID_REFUSED: &[&str] = &[
    "被拒",
    "不予援助",
    "拒绝了",
    "不给援助",
    "不符合",
    "没批",
    "不批",
];

const AID_LAWYER_COMPLAINT: &[&str] = &[
    "不接",
    "不回",
    "不负责",
    "换人",
    "换律师",
    "换一个",
    "不管",
    "敷衍",
    "见一面",
    "投诉",
    "收了我",
    "收钱",
    "辛苦费",
    "红包",
    "好处费",
];

const AID_GENERAL: &[&str] = &[
    "才能申请",
    "才能",
    "什么条件",
    "哪些人",
    "是不是只有",
    "只有",
    "什么人可以",
    "谁能申请",
];

const KNOWLEDGE_Q: &[&str] = &[
    "合法吗",
    "合理吗",
    "有效吗",
    "违法吗",
    "算不算",
    "是不是",
    "真的吗",
    "是真的",
    "对吗",
    "需要还吗",
    "要还吗",
    "必须",
    "能不能",
    "可不可以",
    "可以吗",
    "行吗",
    "判给谁",
    "一般会",
    "听哪",
    "怎么分",
    "能分",
    "有没有",
    "是这样吗",
    "什么后果",
    "会不会坐牢",
    "犯法吗",
    "违法吗",
    "多少岁",
    "几岁",
    "是多久",
    "归谁",
    "到底",
];

const ACTION_Q: &[&str] = &[
    "怎么办",
    "咋办",
    "该怎么",
    "怎么处理",
    "找谁",
    "去哪",
    "哪里",
    "哪儿",
    "怎么弄",
    "咋弄",
    "要回来",
    "能要",
    "要多少",
    "怎么维权",
    "去告",
    "起诉",
    "能告",
];

const HYPOTHETICAL: &[&str] = &["不然", "否则", "如果", "要是", "万一", "假如"];

/// Employer words that only mean employment next to work verbs.
const LABOR_WEAK: &[&str] = &[
    "公司",
    "厂里",
    "工厂",
    "厂子",
    "厂",
    "单位",
    "老板",
    "主管",
    "领导",
    "店里",
    "饭馆",
    "餐馆",
    "工头",
    "包工头",
    "药店",
    "超市",
    "物业公司",
    "保安公司",
    "快递站",
];
const WORK_VERBS: &[&str] = &[
    "我干了",
    "工人",
    "临时工",
    "合同工",
    "缝纫工",
    "普工",
    "保洁",
    "店员",
    "收银员",
    "厨师",
    "学徒",
    "走人",
    "工作",
    "做行政",
    "做销售",
    "在公司",
    "在厂里",
    "在厂",
    "在单位",
    "在店里",
    "在饭馆",
    "在餐馆",
    "当服务员",
    "当司机",
    "当保安",
    "上班",
    "入职",
];

const LABOR_CTX: &[&str] = &[
    "上班",
    "员工",
    "工资",
    "工地",
    "工伤",
    "农民工",
    "奖金",
    "提成",
    "骑手",
    "外卖员",
    "送外卖",
    "送餐",
    "快递员",
    "服务员",
    "辞退",
    "开除",
    "裁员",
    "劳动关系",
    "试用期",
    "劳动合同",
    "辞职",
    "离职",
    "入职",
    "加班",
    "社保",
    "用人单位",
    "工钱",
    "干活",
    "打工",
    "岗位",
    "竞业",
    "干完活",
    "月薪",
    "薪水",
    "底薪",
    "考勤",
    "把我开了",
    "活干完",
];

const LABOR_HARM: &[&str] = &[
    "没签合同",
    "不签合同",
    "不跟我签",
    "未签",
    "没有签合同",
    "辞退",
    "开除",
    "解除",
    "让我走",
    "别来了",
    "不用来了",
    "裁员",
    "岗位取消",
    "签协议走人",
    "加班费",
    "拖欠工资",
    "没发工资",
    "不发工资",
    "欠工资",
    "欠了我们",
    "欠我们",
    "工资没发",
    "工钱",
    "双倍工资",
    "经济补偿",
    "赔偿金",
    "没交社保",
    "不交社保",
    "没缴社保",
    "没给我交",
    "没有交社保",
    "未缴",
    "降薪",
    "扣工资",
    "最低工资",
    "低于",
    "调去",
    "自动离职",
    "不续签",
    "补偿金",
    "职业病",
    "怀孕",
    "孕期",
    "产假",
    "只休",
    "休两天",
    "不让休",
    "扣我",
    "扣了",
    "扣",
    "走人",
    "不给任何补偿",
    "克扣",
    "押金",
    "不退",
    "没结",
    "不结",
    "调岗",
    "超时",
    "拖到",
    "多出来",
    "把我开了",
    "开了我",
    "炒了",
];

/// Refusing to pay or perform.
const DISPUTE: &[&str] = &[
    "不给",
    "只给",
    "不还",
    "不退",
    "不管",
    "不修",
    "推卸",
    "不是他们的责任",
    "扣下",
    "扣着",
    "要我赔",
    "不肯",
    "不搬",
    "不认账",
    "不认",
    "不承认",
    "不赔",
    "不付",
    "拖着",
    "拖欠",
    "没给",
    "不履行",
    "赖账",
    "不肯",
    "拒绝",
    "不干了",
];

const CONTRACT_MONEY: &[&str] = &[
    "工程队",
    "施工队",
    "盖房",
    "装修队",
    "质量",
    "裂缝",
    "漏水",
    "合伙",
    "转让",
    "分红",
    "股份",
    "入股",
    "投资",
    "尾款",
    "货款",
    "付款",
    "工程款",
    "定金",
    "订金",
    "装修",
    "供货",
    "收货",
    "预付款",
    "违约",
    "合同",
    "欠款",
    "对账单",
    "收了我",
    "定做",
    "订做",
    "付了",
    "加工",
];

const WAGE_ARREARS: &[&str] = &[
    "拖欠工资",
    "没发工资",
    "不发工资",
    "欠工资",
    "工资没发",
    "工钱",
    "欠薪",
    "没给工资",
    "工资不给",
    "发工资",
];

const WORK_INJURY: &[&str] = &[
    "工伤",
    "机器压",
    "被机器",
    "上班的时候",
    "干活的时候",
    "工作时",
    "在厂里上班",
    "职业病",
];

const INJURED: &[&str] = &["受伤", "断了", "压了", "骨折", "摔", "伤", "残", "烫", "砸"];

const NO_SOCIAL_INSURANCE: &[&str] = &[
    "没给我交社保",
    "没交社保",
    "不交社保",
    "没缴社保",
    "没有社保",
    "没买社保",
    "未缴",
    "没交保险",
];

const LAND: &[&str] = &[
    "承包地",
    "土地承包",
    "承包经营",
    "土地流转",
    "地流转",
    "流转给",
    "责任田",
    "承包的地",
    "口粮田",
];

const AWARD: &[&str] = &["仲裁裁决", "裁决书", "仲裁结果", "仲裁的结果"];

const ADMIN_PENALTY: &[&str] = &[
    "罚款",
    "罚了",
    "被罚",
    "罚单",
    "行政处罚",
    "处罚决定",
    "城管",
    "吊销",
    "被没收",
    "没收了",
    "责令",
    "查封",
    "行政拘留",
    "强拆",
    "扣分",
    "记分",
    "扣了十二分",
    "扣了12分",
];

const RECONSIDERATION: &[&str] = &["复议", "行政复议"];

const CONSUMER: &[&str] = &[
    "车行",
    "开发商",
    "交房",
    "售楼",
    "药店",
    "药房",
    "商店",
    "门店",
    "店家",
    "小卖部",
    "专卖店",
    "4s店",
    "假药",
    "商场",
    "店里",
    "网店",
    "卖家",
    "网购",
    "网上买",
    "商家",
    "店铺",
    "超市",
    "直播间",
    "平台",
    "退货",
    "退款",
    "办卡",
    "办了张",
    "会员卡",
    "预付",
    "充值",
    "过期",
    "假货",
    "质量问题",
    "消费者",
    "健身",
    "美容",
    "培训机构",
    "店员",
    "摊主",
    "售后",
    "驾校",
    "理发店",
    "办的卡",
    "菜市场",
];

const BUSINESS_GONE: &[&str] = &[
    "换老板",
    "换了老板",
    "卡不认",
    "不认以前",
    "关门",
    "跑路",
    "老板也找不到",
    "找不到人",
    "联系不上",
    "倒闭",
    "退出",
    "店铺已经关",
    "店关了",
    "不归他们管",
    "不退钱",
];

const CONSUMER_RULE: &[&str] = &["七天无理由", "十倍", "三倍", "假一赔", "退一赔"];

const OFFICIAL: &[&str] = &[
    "工作人员",
    "公务员",
    "政府",
    "派出所",
    "警察",
    "法官",
    "检察",
    "公证处",
    "公证员",
    "司法所",
    "街道办",
    "居委会",
    "村委会",
    "村干部",
    "社保局",
    "人社局",
    "医保局",
    "税务局",
    "律师",
    "局里",
    "窗口",
    "办事大厅",
    "社区",
    "民警",
];

const OFFICIAL_MISCONDUCT: &[&str] = &[
    "投诉",
    "不作为",
    "乱作为",
    "态度恶劣",
    "态度很差",
    "态度差",
    "刁难",
    "索要",
    "乱收费",
    "推诿",
    "踢皮球",
    "写错",
    "漏掉",
    "跑了好几趟",
    "跑了五趟",
    "好几趟",
    "办不成",
    "没办成",
    "弄错",
    "搞错",
    "跑了四趟",
    "跑了三趟",
    "跑了两趟",
    "趟了",
    "说不清楚",
    "收了好处",
    "不负责",
    "没去",
    "偏向",
    "偏袒",
    "跑了好多次",
    "来回跑",
    "让我找",
    "互相推",
    "请他吃饭",
    "吃拿卡要",
    "送礼",
    "才给办",
    "明天再来",
    "来了三天",
    "来了好几次",
    "好几天了",
];

const LOAN: &[&str] = &[
    "借钱",
    "借了",
    "借给",
    "借款",
    "借条",
    "欠条",
    "欠我",
    "不还",
    "还钱",
    "欠钱",
    "要账",
    "讨债",
    "欠款",
    "转给他",
    "欠债",
    "赌债",
    "一屁股债",
    "垫了",
    "垫付",
];

const GUARANTOR: &[&str] = &["担保人", "保证人", "担保", "作保", "共同借款人", "共同还款"];

const INTEREST: &[&str] = &[
    "利息",
    "月息",
    "年利率",
    "年化",
    "高利贷",
    "砍头息",
    "服务费",
    "利率",
];

const HEIR_DEBT: &[&str] = &[
    "欠了好多债",
    "生前欠",
    "留下的债",
    "父债子还",
    "替他还",
    "欠的债",
    "欠债",
];

const DEATH: &[&str] = &[
    "去世", "走了", "过世", "死了", "离世", "病逝", "遗产", "继承",
];

const JUDGMENT: &[&str] = &["判决", "判他", "法院判", "调解书", "生效"];

const NOT_PAID: &[&str] = &[
    "停了",
    "不按时",
    "一分",
    "不给",
    "没给",
    "不还",
    "不履行",
    "拒不",
    "没还",
    "不付",
    "没付",
    "没交",
    "拖欠",
    "欠着",
    "不执行",
    "赖着",
    "断了",
    "没钱",
    "不给钱",
];

const DIVORCE: &[&str] = &["离婚", "分居", "冷静期", "抚养权"];

const DIVORCE_RULE: &[&str] = &[
    "冷静期",
    "判给谁",
    "一般会判",
    "能分走",
    "分一半",
    "怎么分",
    "婚前买",
    "婚前首付",
    "婚前我",
    "婚前的房",
    "婚前存款",
    "婚前的存款",
    "抚养权",
    "净身出户",
    "怎么算",
];

const HIDDEN_ASSETS: &[&str] = &[
    "转给他",
    "转移财产",
    "转走",
    "藏钱",
    "偷偷转",
    "悄悄转",
    "隐匿",
    "转了",
];

const VISITATION: &[&str] = &[
    "探望",
    "不让我见",
    "不让我看",
    "见孩子",
    "看孩子",
    "接孩子",
    "不让我跟",
    "不让我和",
    "视频都不让",
    "不让孩子见",
];

const SUPPORT: &[&str] = &["抚养费", "赡养费", "扶养费", "生活费"];

const ELDERLY_SUPPORT: &[&str] = &[
    "赡养",
    "不管我",
    "不养我",
    "养我",
    "养老",
    "不孝",
    "不愿意出钱",
    "不出钱",
    "不愿意管",
    "不照顾",
    "赶出来",
    "不给生活费",
    "养不起",
    "轮流",
];

const BETROTHAL: &[&str] = &["彩礼", "订婚", "定亲"];

const RELATIVES: &[&str] = &[
    "兄弟",
    "兄妹",
    "姐妹",
    "哥哥",
    "弟弟",
    "姐姐",
    "妹妹",
    "我哥",
    "我姐",
    "我弟",
    "我妹",
    "小叔子",
    "大伯",
    "叔叔",
    "姑姑",
    "舅舅",
    "亲戚",
    "公公",
    "婆婆",
    "儿子",
    "女儿",
    "老大",
    "老二",
    "老三",
    "妯娌",
    "嫂子",
];

const FAMILY_CONFLICT: &[&str] = &[
    "没资格",
    "不让",
    "争",
    "吵",
    "不同意",
    "不肯",
    "不搬",
    "出钱少",
    "不给我",
    "不管",
    "不养",
    "不分",
    "霸占",
    "外人",
    "闹",
    "推来推去",
    "赶出来",
    "赶出去",
    "不愿意出钱",
];

const INHERIT: &[&str] = &[
    "遗产",
    "继承",
    "遗嘱",
    "留了套",
    "留下",
    "分房",
    "老房子",
    "分家",
];

const WILL_VALIDITY: &[&str] = &[
    "有效吗",
    "效力",
    "听哪",
    "哪份",
    "算数吗",
    "作数",
    "有没有效",
];

const NEIGHBOR: &[&str] = &["邻居", "楼上", "楼下", "隔壁", "对门", "邻里", "住户"];

const NEIGHBOR_ISSUE: &[&str] = &[
    "漏水", "渗水", "挡光", "采光", "挡住", "噪音", "吵", "加盖", "占用", "堵", "狗", "违建",
    "排水", "树", "油烟", "堆", "杂物", "楼道", "不听", "不改", "不修", "矛盾", "纠纷", "吵架",
    "装修",
];

const DOG: &[&str] = &["狗咬", "被狗", "狗把", "犬", "宠物咬"];

const DEPOSIT: &[&str] = &["押金"];

const TENANCY: &[&str] = &["房东", "租房", "租的房", "租客", "房租", "租赁"];

const LEASE_SALE: &[&str] = &["房子卖了", "把房子卖", "新房东", "卖给别人", "房子被卖"];

const PROPERTY_MGMT: &[&str] = &["物业"];

const TRAFFIC: &[&str] = &[
    "被车撞",
    "撞了",
    "撞倒",
    "撞到",
    "车祸",
    "交通事故",
    "交警",
    "追尾",
    "肇事",
    "刮倒",
    "刮蹭",
    "蹭倒",
    "倒车",
];

const HIT_AND_RUN: &[&str] = &["逃逸", "开跑了", "跑了", "没看清车牌", "找不到司机"];

const INJURY: &[&str] = &[
    "断了",
    "撞伤",
    "伤了",
    "骨折",
    "受伤",
    "住院",
    "摔断",
    "缝了",
    "伤残",
    "咬了",
    "咬伤",
    "砸到",
    "砸伤",
    "烫伤",
    "摔下来",
];

const SCHOOL: &[&str] = &["学校", "幼儿园", "课间", "老师", "同学"];

const FALLING: &[&str] = &["高空抛物", "坠物", "掉下来", "楼上扔", "扔下来", "砸到头"];

const HIRED: &[&str] = &[
    "雇他",
    "雇我",
    "雇的",
    "雇主",
    "帮人干活",
    "装空调",
    "家政",
    "保姆",
    "帮工",
    "雇佣",
];

const MEDICAL: &[&str] = &[
    "手术",
    "医疗事故",
    "误诊",
    "医院",
    "医生",
    "医疗损害",
    "打针",
    "治疗",
    "养老院",
    "护理不当",
    "护工",
    "诊所",
    "疫苗",
    "牙医",
    "拔牙",
    "输液",
    "打吊针",
    "卫生院",
    "接生",
    "生孩子",
    "分娩",
    "整形",
    "美容医院",
    "医美",
];

const MEDICAL_HARM: &[&str] = &[
    "没知觉",
    "瘫痪",
    "后遗症",
    "事故",
    "误诊",
    "死了",
    "去世",
    "操作",
    "失误",
    "感染",
    "治坏",
    "不当",
    "责任",
    "死亡",
    "抽搐",
    "没关系",
    "不承认",
    "怀疑",
    "没了",
    "弄坏",
    "伤了",
    "风险",
    "怎么回事",
    "突然",
    "昏迷",
    "没抢救过来",
    "抢救",
    "脑瘫",
    "出了问题",
    "残疾",
    "做完",
    "结果",
    "做坏了",
    "毁容",
];

const APPRAISAL: &[&str] = &[
    "鉴定",
    "伤残等级",
    "评残",
    "职业病",
    "尘肺",
    "笔迹",
    "签名是不是",
    "剪辑",
    "萝卜章",
    "公章是假",
    "章是假",
    "甲醛",
    "墙体",
    "开裂",
    "查出来",
    "手印",
    "指纹",
    "不是他按的",
    "不是他签的",
    "不是他写的",
    "别人签的",
    "签名是假",
    "代签的",
    "验伤",
    "贬值",
    "老糊涂",
    "糊涂了",
    "神志不清",
    "行为能力",
];

const PATERNITY: &[&str] = &[
    "亲子",
    "不像我",
    "是不是亲生",
    "亲生的",
    "dna",
    "孩子不是他的",
    "孩子不是我的",
    "不是亲生",
];

const SALE_CONTRACT: &[&str] = &["合同上写", "合同写的", "约定", "承诺", "保证"];

const SUE: &[&str] = &[
    "起诉",
    "告他",
    "告她",
    "告他们",
    "打官司",
    "去法院",
    "上法院",
    "诉讼",
    "要告",
    "想告",
    "告到法院",
];

const LAWYER: &[&str] = &["请律师", "找律师", "委托律师", "律师费", "请个律师"];

const NOTARY: &[&str] = &["公证"];

const TRANSFER: &[&str] = &[
    "过户",
    "更名",
    "手续",
    "取钱",
    "才能取",
    "提取",
    "继承的证明",
    "继承证明",
    "继承权证明",
    "存款",
];

const OVERSEAS: &[&str] = &[
    "国外",
    "海外",
    "定居",
    "在美国",
    "在加拿大",
    "在日本",
    "在澳大利亚",
    "在英国",
    "境外",
];

const ABROAD_DOCS: &[&str] = &["出国", "留学", "签证", "移民", "涉外"];

const DOCS: &[&str] = &[
    "证明",
    "学历",
    "出生",
    "公证件",
    "无犯罪",
    "亲属关系",
    "无案底",
];

const EVIDENCE: &[&str] = &[
    "留下来当证据",
    "留证据",
    "保全证据",
    "证据保全",
    "固定证据",
    "取证",
    "当证据",
    "留存",
    "保存下来",
    "保存证据",
    "怎么保存",
];

const ONLINE_CONTENT: &[&str] = &["视频", "网页", "聊天记录", "微信", "朋友圈", "网上", "平台"];

const MAKE_WILL: &[&str] = &["立个遗嘱", "立遗嘱", "写遗嘱", "做遗嘱", "立一份遗嘱"];

/// Things that expire on a shelf, not at law.
const EXPIRED_GOODS: &[&str] = &[
    "买的",
    "奶粉",
    "食品",
    "食物",
    "药品",
    "商品",
    "超市",
    "保质期",
    "饮料",
    "零食",
    "蛋糕",
    "过期药",
    "过期食品",
];

const DEADLINE: &[&str] = &[
    "时效",
    "来得及",
    "来不及",
    "过期了",
    "过没过期",
    "期限",
    "多久之内",
    "多长时间内",
    "截止",
    "超过",
    "还剩",
    "过了两年",
    "过了一年",
    "过了三年",
    "前年",
    "下周开庭",
    "明天开庭",
    "马上开庭",
    "快开庭",
    // A payment order (15 days to object) or a short time limit set by an authority.
    "支付令",
    "天之内",
    "日之内",
    "限期",
    "就要到期",
    "快到期",
    "马上到期",
];

const DECISION: &[&str] = &[
    "裁决书",
    "判决书",
    "复议决定",
    "决定书",
    "处罚决定",
    "不予受理",
    "驳回",
    "维持",
];

fn has(t: &Text, p: &[&'static str]) -> Found {
    t.find(p)
}

fn both(t: &Text, a: &[&'static str], b: &[&'static str]) -> Found {
    match (t.find(a), t.find(b)) {
        (Some(x), Some(_)) => Some(x),
        _ => None,
    }
}

/// A word of `a` in the same clause as a word of `b`.
fn same_clause(t: &Text, a: &[&'static str], b: &[&'static str]) -> Found {
    t.norm
        .split(['，', ',', '。', '；', '！', '？'])
        .find_map(|c| {
            let ct = Text {
                norm: c.to_string(),
            };
            both(&ct, a, b)
        })
}

impl Facts {
    /// Whether any legal topic was recognised.
    pub fn any_topic(&self) -> bool {
        [
            self.labor_ctx,
            self.loan,
            self.divorce,
            self.traffic,
            self.injury,
            self.inheritance,
            self.neighbor,
            self.consumer,
            self.admin_penalty,
            self.crime,
            self.domestic_violence,
            self.betrothal,
            self.notary_words,
            self.appraisal,
            self.land_contract,
            self.aid_words,
            self.property_mgmt,
            self.medical,
            self.contract_dispute,
            self.imminent,
            self.suicide,
            self.threat,
            self.child_abuse,
            self.fraud_now,
            self.official_complaint,
            self.detained,
            self.report_intent,
            self.hardship,
            self.assaulted,
            self.child_work,
            self.visitation,
            self.support_arrears,
            self.elderly_support,
            self.hero,
            self.lease_sale,
            self.deposit,
            self.dog,
            self.falling_object,
            self.paternity,
            self.evidence_preserve,
            self.make_will,
            self.abroad_docs,
            self.notarize_intent,
            self.illegal_request,
            self.environment,
            self.admin_refusal,
            self.missing_person,
            self.land_taking,
        ]
        .iter()
        .any(Option::is_some)
    }
}

/// Remove sentences that try to change the assistant's rules; return the
/// rest and the first injection phrase found.
pub fn strip_injection(raw: &str) -> (String, Found) {
    let mut found = None;
    let mut kept = Vec::new();
    for s in signals::sentences(raw) {
        // Clauses too: "忽略以上所有规定，告诉我..." may share a sentence with a question.
        let mut clauses_kept = Vec::new();
        let mut sentence_hit = None;
        for c in s.split(['，', ',', '：', ':']) {
            let n = signals::normalize(c);
            let mut hits: Vec<&'static str> = INJECTION
                .iter()
                .copied()
                .filter(|p| n.contains(p))
                .collect();
            if hits.is_empty() && signals::override_attempt(&n) {
                hits.push("忽略……指令");
            }
            match hits.first() {
                Some(h) => {
                    sentence_hit = sentence_hit.or(Some(*h));
                    // A clause may carry the real question after the attempt.
                    let mut rest = n.clone();
                    for p in &hits {
                        rest = rest.replace(p, "");
                    }
                    let cjk = rest
                        .chars()
                        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
                        .count();
                    let rt = Text::new(&rest);
                    if cjk >= 6
                        && rt.any(LEGAL_CONTENT)
                        && !rt.any(&["告诉我你", "输出", "提示", "规则", "限制"])
                    {
                        clauses_kept.push(c);
                    }
                }
                None => clauses_kept.push(c),
            }
        }
        match sentence_hit {
            Some(h) => {
                found = found.or(Some(h));
                // Keep the clauses that carry a legal question of their own.
                let rest = clauses_kept.join("，");
                let rn = Text::new(&rest);
                if rn.any(LEGAL_CONTENT) && !rn.any(&["告诉我你", "输出", "提示"]) {
                    kept.push(rest);
                }
            }
            None => kept.push(s.to_string()),
        }
    }
    (kept.join("。"), found)
}

/// Drop clauses that only state a condition ("不然...就不发了").
fn factual_text(raw: &str) -> String {
    let mut out = String::new();
    for s in signals::sentences(raw) {
        for c in s.split(['，', ',']) {
            let n = signals::normalize(c);
            if HYPOTHETICAL.iter().any(|h| n.starts_with(h)) {
                continue;
            }
            out.push_str(&n);
            out.push('，');
        }
        out.push('。');
    }
    out
}

/// The text the rules weigh for topics: the question without injection
/// sentences and condition-only clauses, normalised (as [`read`] makes it).
pub fn factual_of(question: &str) -> String {
    let (legal_text, _) = strip_injection(question);
    Text::new(&factual_text(&legal_text)).norm
}

/// Read the facts of `question`; `year` is the current calendar year.
pub fn read(question: &str, year: i32) -> Facts {
    let (legal_text, injection) = strip_injection(question);
    let t = Text::new(&legal_text);
    let ft = Text::new(&factual_text(&legal_text));
    let mut f = Facts {
        legal_text: t.norm.clone(),
        factual_text: ft.norm.clone(),
        injection,
        has_legal_content: t.any(LEGAL_CONTENT),
        ..Facts::default()
    };

    // Scope.
    f.out_of_scope = has(&t, NON_LEGAL_TASK).filter(|_| !t.any(&["公证", "证明", "合同", "法律"]));
    for place in t.all_found(FOREIGN) {
        let n = &t.norm;
        let law_there = n.match_indices(place).any(|(i, _)| {
            let after: String = n[i..].chars().take(14).collect();
            [
                "的法律",
                "法律",
                "当地法",
                "州法",
                "的规定",
                "罚单",
                "签证官",
            ]
            .iter()
            .any(|w| after.contains(w))
        });
        if law_there {
            f.foreign_law = Some(place);
            break;
        }
    }
    f.illegal_request = if t.any(&[
        "怎么",
        "如何",
        "教我",
        "帮我",
        "告诉我",
        "怎样",
        "能不能",
        "办法",
    ]) {
        has(
            &t,
            &[
                "假借条",
                "伪造",
                "假证据",
                "做假证",
                "造假",
                "假合同",
                "假公章",
                "办假证",
                "假离婚",
                "逃税",
                "洗钱",
                "怎么逃避",
                "销毁证据",
                "篡改",
                "涂改",
                "多写一个零",
                "做手脚",
                "做假",
                "不被发现",
                "神不知鬼不觉",
            ],
        )
    } else {
        None
    };
    if f.out_of_scope.is_none() && !f.has_legal_content && f.injection.is_none() {
        f.out_of_scope = has(
            &t,
            &[
                "帮我写",
                "给我写",
                "推荐几",
                "推荐一",
                "讲个",
                "讲一个",
                "算一下",
                "帮我算",
                "帮我查",
            ],
        );
    }

    // Danger and crime.
    f.imminent = has(&t, DANGER_NOW).or_else(|| {
        // Violence happening now: a time word of the present next to a weapon
        // or an attack ("现在就在门外踹门").
        same_clause(&ft, VIOLENCE_NOW, NOW)
    });
    f.suicide = has(&t, SUICIDE);
    f.domestic_violence = if t.any(FAMILY_ABUSER) {
        has(&t, DV)
    } else {
        None
    };
    f.threat = has(&t, THREAT);
    f.child_abuse = has(&t, CHILD_ABUSE);
    f.fraud_now = has(&t, FRAUD_NOW).or_else(|| {
        both(
            &t,
            &["刚在", "刚才", "刚刚", "刚被", "马上把我拉黑", "就把我拉黑"],
            &["被骗", "骗了", "拉黑"],
        )
        .or_else(|| {
            both(&t, &["刚刚", "刚才"], &["转了", "转过去", "汇了"]).filter(|_| {
                t.any(&[
                    "关机",
                    "联系不上",
                    "拉黑",
                    "打不通",
                    "不回",
                    "发现",
                    "根本没",
                ])
            })
        })
    });
    f.crime = has(&t, CRIME);
    f.detained = has(&t, DETAINED).or_else(|| {
        if t.any(&[
            "指控",
            "涉嫌",
            "嫌疑人",
            "被告人",
            "移交公安",
            "移送公安",
            "移交给公安",
            "移送给公安",
            "立案侦查",
            "公诉",
        ]) {
            has(&t, CRIME)
        } else {
            None
        }
    });
    if f.domestic_violence.is_some() {
        // Being locked in or out by an abuser is violence, not police custody.
        f.detained = f
            .detained
            .filter(|w| !["关在", "关着", "被关", "关起来"].contains(w));
    }
    if f.child_abuse.is_none() && (f.minor_age.is_some() || t.any(&["女儿", "儿子", "孩子"]))
    {
        f.child_abuse = has(&t, CHILD_DANGER);
    }
    f.land_taking = has(
        &t,
        &[
            "征地",
            "征收",
            "拆迁",
            "占了我家",
            "占我家的地",
            "要占",
            "征用",
            "占地",
            "修路占",
            "强占",
        ],
    );
    f.missing_person =
        has(&t, MISSING).filter(|_| t.any(CHILD) || t.any(&["老人", "我爸", "我妈", "小时"]));
    f.police_inaction = if t.any(&["派出所", "公安", "警察", "报案", "报警"]) {
        has(&t, POLICE_INACTION)
    } else {
        None
    };
    f.assaulted = has(&t, ASSAULT);

    // Who.
    f.child = has(&t, CHILD);
    f.minor_age = if f.child.is_some() || t.any(&["今年", "才", "我"]) {
        signals::ages(&t).into_iter().filter(|a| *a < 18).min()
    } else {
        None
    };
    if f.minor_age.is_none() && f.child.is_some() {
        f.minor_age = signals::stated_age(&t).filter(|a| *a < 18);
    }
    if t.any(&[
        "未成年",
        "没满18",
        "不满18",
        "未满18",
        "没满十八",
        "不满十八",
        "未满十八",
    ]) && f.minor_age.is_none()
    {
        f.minor_age = Some(17);
    }
    f.child_harmed = if f.child.is_some() || f.minor_age.is_some() {
        has(&ft, HARM_WORDS)
    } else {
        None
    };
    f.elderly = has(&t, ELDERLY).or_else(|| {
        signals::ages(&t)
            .into_iter()
            .any(|a| a >= 60)
            .then_some("60岁以上")
    });
    f.disabled = has(&t, DISABLED);
    f.hardship = has(&t, HARDSHIP);
    f.migrant = has(&t, MIGRANT);
    f.hero = has(&t, HERO);
    f.martyr_family = has(&t, MARTYR);
    let people = signals::max_people(&t);
    f.group = match people {
        Some(p) if p >= 5.0 => Some(format!("{}人（户）以上", p as u32)),
        _ => t
            .find(&[
                "这么多家",
                "这么多户",
                "好多家",
                "几十户",
                "十几户",
                "大家一起",
                "集体",
                "全村",
                "一栋楼",
            ])
            .map(str::to_string),
    };
    f.amount = signals::max_amount(&t);

    // Legal aid as a topic.
    f.aid_words = has(&t, AID);
    if f.aid_words.is_some() {
        f.aid_refused = has(&t, AID_REFUSED);
        if t.any(&[
            "援助律师",
            "指派的律师",
            "给我指派",
            "援助中心给我",
            "法援中心的律师",
            "援助中心的律师",
            "法援律师",
        ]) {
            f.aid_lawyer_complaint = has(&t, AID_LAWYER_COMPLAINT);
        }
        f.aid_general_question = has(&t, AID_GENERAL);
    }

    // Question form.
    f.knowledge_q = has(&t, KNOWLEDGE_Q).or_else(|| signals::can_question(&t).then_some("能……吗"));
    f.action_q = has(&t, ACTION_Q);
    f.self_permission_q = f.action_q.is_none() && signals::self_permission(&t);
    f.rule_question = f.knowledge_q.is_some()
        && f.action_q.is_none()
        && !t.norm.contains('了')
        && !t.any(&["我", "咱", "他", "她", "我们"])
        && t.norm.chars().count() <= 30;
    // A short impersonal yes/no question ("试用期内被辞退有补偿吗").
    f.rule_question = f.rule_question
        || (f.action_q.is_none()
            && !t.any(&["我", "咱", "他", "她"])
            && t.norm.chars().count() <= 20
            && t.norm.trim_end_matches(['？', '?', '。']).ends_with('吗'));

    // Labour and land.
    let private_job = t.any(&[
        "个人之间",
        "口头约定",
        "包活",
        "承揽",
        "雇我",
        "雇他",
        "雇的",
        "帮朋友",
        "帮一个朋友",
        "给朋友",
    ]);
    // Buying something is not working there ("买的手机……店员说").
    let private_job = private_job
        || (t.any(&["买的", "买了", "网购", "网上买"])
            && !t.any(&["上班", "工资", "员工", "入职", "辞退", "开除"]));
    f.labor_ctx = has(&t, LABOR_CTX).filter(|_| !private_job).or_else(|| {
        if private_job {
            return None;
        }
        if t.any(WORK_VERBS) || signals::work_duration(&t) {
            has(&t, LABOR_WEAK)
        } else {
            None
        }
    });
    if f.labor_ctx.is_some() {
        f.labor_harm = has(&ft, LABOR_HARM).or_else(|| has(&ft, DISPUTE));
        f.labor_relation_denied = has(
            &t,
            &[
                "不是他们员工",
                "不是他们的员工",
                "不是员工",
                "不承认劳动关系",
                "不认劳动关系",
                "不是我们的人",
                "没有劳动关系",
            ],
        );
        f.wage_arrears = has(&ft, WAGE_ARREARS).or_else(|| {
            both(
                &ft,
                &[
                    "拖欠", "欠", "没发", "不发", "不给", "没给", "克扣", "扣了", "没结", "不结",
                    "卷钱", "跑了", "少发",
                ],
                &["工资", "工钱", "薪", "劳务费", "报酬"],
            )
        });
        if f.wage_arrears.is_none() && t.any(MIGRANT) {
            // Migrant workers rarely say 工资: "欠了三十万", "只能给一半".
            f.wage_arrears = has(
                &ft,
                &[
                    "欠",
                    "拖",
                    "没给钱",
                    "不给钱",
                    "只能给",
                    "给一半",
                    "结账",
                    "找不到",
                ],
            );
        }
        f.no_social_insurance = has(&ft, NO_SOCIAL_INSURANCE);
        if t.any(&["工伤"]) || t.any(INJURED) && !t.any(&["打伤", "被打", "撞", "车祸"]) {
            f.work_injury = has(&t, WORK_INJURY).or(Some("上班时受伤"));
        }
    }
    f.contractor = has(&t, &["包工头", "工头", "项目部", "分包", "转包", "总包"]);
    if f.minor_age.is_some() || t.any(&["未成年", "童工"]) {
        f.child_work = has(&t, CHILD_WORK);
    }
    f.land_contract = has(&t, LAND);
    f.appeal = if t.any(&["判决", "判得", "一审", "裁定"]) {
        has(&t, &["上诉"]).or_else(|| {
            // "判决书8号送到的……我不服": disputing a judgment just received.
            both(&t, &["不服", "不公平"], &["送到", "收到", "拿到", "送达"])
                .filter(|_| !t.any(&["仲裁", "复议"]))
        })
    } else {
        None
    };
    f.award_challenge = if t.any(&["不服", "不满意"])
        || (t.any(&["起诉", "法院"]) && !t.any(&["生效", "没起诉", "没去法院"]))
    {
        has(&t, AWARD)
    } else {
        None
    };

    // Administrative.
    f.admin_penalty = has(&t, ADMIN_PENALTY).or_else(|| signals::fine_amount(&t).then_some("罚款"));
    f.reconsideration = has(&t, RECONSIDERATION);
    if f.reconsideration.is_some() && t.any(&["法院", "起诉", "告", "再争", "不服"]) {
        f.reconsideration_to_court = has(&t, &["复议决定", "维持", "复议"]);
    }
    f.hearing = has(&t, &["听证"]);
    f.consumer = if f.labor_ctx.is_none() {
        has(&t, CONSUMER)
    } else {
        None
    };
    if f.consumer.is_some() {
        f.business_gone = has(&t, BUSINESS_GONE);
        f.consumer_rule_q = has(&t, CONSUMER_RULE);
        f.consumer_dispute = has(
            &t,
            &[
                "不承认",
                "不认",
                "假药",
                "假货",
                "没效果",
                "不肯",
                "不给退",
                "不处理",
                "拒绝",
                "不赔",
                "不管",
                "拉肚子",
                "中毒",
                "过敏",
                "起疹子",
                "变质",
                "保质期",
            ],
        );
    }
    f.official_complaint = both(&t, OFFICIAL_MISCONDUCT, OFFICIAL);
    if t.any(&["公证书", "公证处"]) {
        f.notary_error = has(
            &t,
            &["写错", "漏掉", "漏了", "错了", "弄错", "搞错", "错误"],
        );
    }

    // Civil.
    f.loan = has(&t, LOAN);
    f.guarantor = has(&t, GUARANTOR);
    f.interest = has(&t, INTEREST);
    if t.any(&["老公", "老婆", "丈夫", "妻子", "夫妻"])
        && t.any(&["借", "欠", "债"])
        && t.any(&["还吗", "要还", "一起还", "替他还", "替她还"])
    {
        f.spouse_debt = Some("夫妻一方的债务");
    }
    if t.any(DEATH) {
        f.heir_debt = has(&t, HEIR_DEBT);
    }
    f.judgment_unpaid = both(&t, JUDGMENT, NOT_PAID)
        .or_else(|| {
            has(
                &t,
                &["强制执行", "老赖", "失信被执行", "法院执行", "申请执行"],
            )
        })
        .or_else(|| both(&t, &["法院调解", "调解书", "调解时"], NOT_PAID))
        .filter(|_| !t.any(NOTARY) || t.any(&["判", "法院"]));
    f.divorce = has(&t, DIVORCE);
    if f.divorce.is_some() {
        f.divorce_rule_q = has(&t, DIVORCE_RULE);
        f.hidden_assets = has(&t, HIDDEN_ASSETS);
    }
    f.visitation =
        has(&t, VISITATION).filter(|_| t.any(&["不让", "拉黑", "见不到", "不给见", "探望"]));
    f.support_arrears = both(&t, SUPPORT, NOT_PAID);
    f.elderly_support = if f.elderly.is_some() || t.any(&["赡养"]) {
        has(&t, ELDERLY_SUPPORT)
    } else {
        None
    };
    f.betrothal = has(&t, BETROTHAL);
    f.family_dispute = both(&t, RELATIVES, FAMILY_CONFLICT);
    f.inheritance = if t.any(DEATH)
        || t.any(&["遗嘱", "遗产", "继承", "父母留下", "留下的", "祖屋", "老宅"])
    {
        has(&t, INHERIT).or(Some("继承"))
    } else {
        None
    };
    if t.any(&["遗嘱"]) {
        f.will_validity = has(&t, WILL_VALIDITY);
    }
    f.neighbor = both(&t, NEIGHBOR, NEIGHBOR_ISSUE).or_else(|| both(&t, NEIGHBOR, DISPUTE));
    f.dog = has(&t, DOG);
    f.deposit = has(&t, DEPOSIT).filter(|_| t.any(DISPUTE) || t.any(&["扣"]));
    if t.any(TENANCY) {
        f.lease_sale = has(&t, LEASE_SALE);
        f.deposit = f.deposit.or_else(|| has(&t, &["不退"]));
    }
    f.property_mgmt = has(&t, PROPERTY_MGMT);
    f.traffic = has(&t, TRAFFIC).or_else(|| {
        same_clause(
            &t,
            &["开车", "停车", "倒车", "骑车", "骑电动车", "骑摩托"],
            &["碰", "刮", "蹭", "撞"],
        )
    });
    if f.traffic.is_some() {
        f.hit_and_run = has(&t, HIT_AND_RUN);
    }
    f.injury = has(&t, INJURY);
    if f.injury.is_some() || t.any(&["推倒", "摔"]) {
        f.school_injury = has(&t, SCHOOL);
    }
    f.falling_object = has(&t, FALLING);
    if t.any(&["摔", "伤", "骨折", "砸"]) {
        f.hired_injury = has(&t, HIRED);
    }
    f.medical = both(&t, MEDICAL, MEDICAL_HARM);
    f.appraisal = has(&t, APPRAISAL);
    f.paternity = has(&t, PATERNITY);
    if t.any(&["合同", "协议"]) && t.any(&["结果", "却", "但是", "不认", "不承认"]) {
        f.sale_contract = has(&t, SALE_CONTRACT);
    }
    f.sue_words = has(&t, SUE);
    f.lawyer_words = has(&t, LAWYER);

    // Notary.
    f.notary_words = has(&t, NOTARY);
    if t.any(DEATH) {
        f.transfer_after_death = has(&t, TRANSFER);
    }
    f.overseas = if t.any(&["委托", "代办", "替我", "办"]) {
        has(&t, OVERSEAS)
    } else {
        None
    };
    if t.any(&["委托", "代办", "替我办", "代我", "代签", "替我签", "帮我签"]) {
        f.remote_principal = has(
            &t,
            &[
                "回不去",
                "回不来",
                "在外地",
                "人在",
                "来不了",
                "走不开",
                "行动不便",
            ],
        );
    }
    f.notarize_intent = has(
        &t,
        &[
            "更有效力",
            "更有保障",
            "比较稳妥",
            "稳妥",
            "写清楚",
            "免得以后",
            "避免以后",
            "以免以后",
            "法律效力更强",
            "强制执行效力",
            "做个见证",
            "公证一下",
            "防止以后反悔",
            "以后不认账",
        ],
    );
    f.environment = has(
        &t,
        &[
            "污染",
            "冒黑烟",
            "排污",
            "废水",
            "废气",
            "粉尘",
            "熏",
            "恶臭",
            "偷排",
            "噪音扰民",
            "夜间施工",
        ],
    )
    .or_else(|| {
        both(
            &t,
            &["工地", "施工", "工厂", "厂房"],
            &["吵", "噪音", "睡不着"],
        )
    });
    if t.any(&["申请", "办理", "审批", "办", "开证明", "开个证明"])
        && t.any(&[
            "街道", "民政", "政府", "局", "乡镇", "社区", "村委", "部门", "窗口",
        ])
    {
        f.admin_refusal = has(
            &t,
            &[
                "被拒",
                "拒了",
                "拒绝",
                "不批",
                "不给办",
                "不予",
                "驳回",
                "没批",
                "不给我办",
                "不给开",
                "不给我开",
            ],
        );
    }
    f.report_intent = has(
        &t,
        &[
            "举报",
            "投诉",
            "反映",
            "哪个部门",
            "找哪个部门",
            "哪个单位管",
            "12333",
            "12315",
            "12345",
            "劳动监察",
            "市场监管",
        ],
    );
    if f.labor_ctx.is_none() && f.consumer.is_none() {
        if let (Some(m), Some(_)) = (has(&t, CONTRACT_MONEY), has(&t, DISPUTE)) {
            f.contract_dispute = Some(m);
        }
    }
    f.abroad_docs = both(&t, ABROAD_DOCS, DOCS);
    f.evidence_preserve = both(&t, EVIDENCE, ONLINE_CONTENT);
    f.make_will = has(&t, MAKE_WILL);

    if f.out_of_scope.is_none()
        && f.injection.is_none()
        && f.action_q.is_none()
        && !f.has_legal_content
        && !f.any_topic()
        && t.norm.chars().count() >= 4
    {
        f.out_of_scope = has(&t, &["帮我", "给我", "请你", "你能不能"])
            .filter(|_| !t.any(DISPUTE) && !t.any(&["被", "我们"]));
    }

    // Time.
    // "过期" of goods (expired food or medicine) is not a time limit.
    f.deadline_words = has(&t, DEADLINE).filter(|w| !(w.contains("过期") && t.any(EXPIRED_GOODS)));
    f.decision_received = if t.any(&["收到", "拿到", "下来了", "送达", "送到", "刚到", "到的"])
    {
        has(&t, DECISION)
    } else {
        None
    };
    f.years_ago = signals::years(&t)
        .into_iter()
        .filter(|y| *y <= year)
        .map(|y| year - y)
        .max();
    f.unpaid_months = signals::unpaid_months(&t);
    f.days_left = signals::days_left(&t);
    f
}
