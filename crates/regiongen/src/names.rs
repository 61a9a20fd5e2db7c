//! Name pools: places (cities, districts, towns, villages, roads) and people.

use crate::rng::{Affine, Rng, Table};

/// Two-part names `a + b` (every combination), and beyond those three-part names `a + c + b`
/// (or `c + a + b`). Every entry of `a` has the same length and so has every entry of `c`, so a
/// name splits back into its parts one way only: distinct indexes give distinct names.
pub(crate) struct Pool {
    pub(crate) a: &'static [&'static str],
    pub(crate) b: &'static [&'static str],
    pub(crate) c: &'static [&'static str],
    pub(crate) c_first: bool,
}

impl Pool {
    pub(crate) fn capacity(&self) -> u64 {
        (self.a.len() * self.b.len() * (1 + self.c.len())) as u64
    }
}

/// A pool with a random order of its names.
pub(crate) struct Namer {
    pool: &'static Pool,
    two: Affine,
    three: Affine,
}

impl Namer {
    pub(crate) fn new(pool: &'static Pool, rng: &mut Rng) -> Namer {
        let n2 = (pool.a.len() * pool.b.len()) as u64;
        Namer { pool, two: Affine::new(rng, n2), three: Affine::new(rng, n2 * pool.c.len() as u64) }
    }

    pub(crate) fn capacity(&self) -> u64 {
        self.pool.capacity()
    }

    /// The `i`-th name (distinct for distinct `i` below the capacity; None beyond it).
    pub(crate) fn name(&self, i: u64, out: &mut String) -> bool {
        let p = self.pool;
        let (na, nb) = (p.a.len() as u64, p.b.len() as u64);
        if i < self.two.n {
            let j = self.two.map(i);
            out.push_str(p.a[(j / nb) as usize]);
            out.push_str(p.b[(j % nb) as usize]);
            return true;
        }
        let k = i - self.two.n;
        if k >= self.three.n {
            return false;
        }
        let j = self.three.map(k);
        let (ab, c) = (j / p.c.len() as u64, j % p.c.len() as u64);
        let (a, b, c) = (p.a[(ab / nb) as usize], p.b[(ab % nb) as usize], p.c[c as usize]);
        debug_assert!(ab / nb < na);
        if p.c_first {
            out.push_str(c);
            out.push_str(a);
        } else {
            out.push_str(a);
            out.push_str(c);
        }
        out.push_str(b);
        true
    }
}

/// Cities and districts (市, 区, 县): one pool, so their names never repeat across the region.
pub(crate) static DIVISIONS: Pool = Pool {
    a: &[
        "江", "汉", "荆", "襄", "云", "黄", "宜", "鄂", "随", "孝", "咸", "恩", "沙", "青", "丰", "安", "兴", "宁", "平", "永",
        "长", "清", "白", "松", "桂", "东", "西", "南", "北", "新", "临", "金", "华", "龙", "凤", "天", "秀", "明", "通", "崇",
    ],
    b: &[
        "陵", "阳", "州", "山", "城", "川", "源", "水", "河", "昌", "林", "溪", "泉", "原", "口", "岭", "关", "台", "湖", "门",
        "坪", "桥", "堰", "冈", "峰", "谷", "亭", "丘", "津", "滨", "塘", "田", "都", "沅",
    ],
    c: &["石", "家", "马", "花", "竹", "桃", "柳", "梅"],
    c_first: false,
};

/// Towns (镇, 乡) within a district.
pub(crate) static TOWNS: Pool = Pool {
    a: &[
        "青", "柳", "杨", "桃", "梅", "竹", "松", "柏", "枫", "杏", "梨", "荷", "兰", "菊", "石", "铁", "金", "银", "玉", "龙",
        "凤", "鹤", "雁", "马", "牛", "羊", "鹿", "虎", "三", "五", "七", "九", "双", "高", "长", "新", "古", "大", "小", "红",
    ],
    b: &["湾", "店", "铺", "畈", "岗", "垸", "集", "口", "寺", "场", "港", "河", "桥", "坪", "溪", "峪", "沟", "冲", "坝", "庙"],
    c: &["山", "林", "水", "树", "花", "家"],
    c_first: false,
};

/// Villages (…家湾) within a town.
pub(crate) static VILLAGES: Pool = Pool {
    a: &[
        "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
        "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "余", "叶", "程",
    ],
    b: &[
        "家湾", "家岗", "家畈", "家垸", "家咀", "家冲", "家店", "家庄", "家岭", "家坡", "家台", "家桥", "家河", "家沟", "家坪",
        "家山",
    ],
    c: &["大", "小", "新", "老", "上", "下"],
    c_first: true,
};

/// Streets of a district's urban area (解放路, 解放东路).
pub(crate) static ROADS: Pool = Pool {
    a: &[
        "解放", "中山", "建设", "人民", "胜利", "和平", "友谊", "光明", "民主", "新华", "东风", "红旗", "育才", "文化", "青年",
        "五一", "滨江", "振兴", "复兴", "团结", "幸福", "朝阳", "向阳", "前进", "民族", "工农", "花园", "公园", "学府", "书院",
    ],
    b: &["路", "街"],
    c: &["东", "西", "南", "北", "中"],
    c_first: false,
};

const SURNAMES: &[(&str, u32)] = &[
    ("王", 720),
    ("李", 710),
    ("张", 680),
    ("刘", 540),
    ("陈", 460),
    ("杨", 330),
    ("黄", 240),
    ("赵", 230),
    ("吴", 210),
    ("周", 200),
    ("徐", 160),
    ("孙", 150),
    ("马", 140),
    ("朱", 130),
    ("胡", 150),
    ("郭", 120),
    ("何", 110),
    ("高", 110),
    ("林", 100),
    ("罗", 100),
    ("郑", 90),
    ("梁", 80),
    ("谢", 80),
    ("宋", 75),
    ("唐", 75),
    ("许", 70),
    ("韩", 65),
    ("冯", 65),
    ("邓", 70),
    ("曹", 65),
    ("彭", 75),
    ("曾", 65),
    ("肖", 65),
    ("田", 60),
    ("董", 55),
    ("袁", 55),
    ("潘", 50),
    ("于", 45),
    ("蒋", 50),
    ("蔡", 50),
    ("余", 60),
    ("杜", 50),
    ("叶", 50),
    ("程", 55),
    ("苏", 45),
    ("魏", 45),
    ("吕", 40),
    ("丁", 45),
    ("任", 45),
    ("沈", 40),
    ("姚", 40),
    ("卢", 40),
    ("姜", 35),
    ("崔", 30),
    ("钟", 40),
    ("谭", 45),
    ("陆", 35),
    ("汪", 45),
    ("范", 35),
    ("金", 30),
    ("石", 35),
    ("廖", 35),
    ("贾", 30),
    ("夏", 40),
    ("韦", 25),
    ("付", 35),
    ("方", 35),
    ("白", 25),
    ("邹", 35),
    ("孟", 25),
    ("熊", 55),
    ("秦", 30),
    ("邱", 30),
    ("江", 35),
    ("尹", 25),
    ("薛", 25),
    ("闫", 20),
    ("段", 25),
    ("雷", 35),
    ("侯", 25),
    ("龙", 25),
    ("史", 25),
    ("陶", 25),
    ("黎", 22),
    ("贺", 25),
    ("顾", 20),
    ("毛", 22),
    ("郝", 18),
    ("龚", 30),
    ("邵", 20),
    ("万", 30),
    ("钱", 20),
    ("严", 20),
    ("覃", 25),
    ("武", 18),
    ("戴", 22),
    ("莫", 15),
    ("孔", 15),
    ("向", 30),
    ("汤", 20),
    ("欧阳", 6),
    ("司马", 1),
    ("诸葛", 1),
];

const MALE: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "宇", "浩", "凯",
    "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "阳", "博", "文", "彬", "成", "康", "星", "晨", "航", "晖", "毅", "锐", "峰",
    "建", "国", "志", "海", "泽", "轩", "睿", "豪", "铭", "瑞", "哲", "昊", "宏", "烨", "然", "逸", "楠", "梓", "天", "嘉", "翔",
    "远", "启", "亮", "振", "诚", "立", "奕", "霖", "煜", "鸿", "承", "晟", "子", "坤", "家", "皓", "宸", "森", "义", "尧", "昌",
    "东", "松", "德", "红",
];

const FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "桂", "丹", "萍", "红", "婷", "雪", "琳", "晶", "颖", "倩", "洁",
    "佳", "欣", "怡", "悦", "诗", "涵", "萱", "雨", "琪", "梦", "瑶", "馨", "妍", "彤", "蕾", "薇", "璐", "露", "思", "月", "慧",
    "莉", "茜", "媛", "菲", "婧", "岚", "清", "可", "语", "汐", "若", "依", "安", "梓", "子", "心", "晓", "雅", "秀", "英", "兰",
    "凤", "春", "美", "玉", "珍", "琴", "云", "霏", "茹", "蓉", "娅", "嘉", "宁", "歆", "沫", "楠", "冰", "菁", "婉", "芸", "珊",
    "晴", "笑", "梅", "文",
];

const NEUTRAL: &[&str] =
    &["子", "一", "文", "可", "欣", "宇", "晨", "嘉", "思", "乐", "安", "小", "晓", "雨", "明", "新", "世", "永", "春", "海"];

/// Given names of the minority naming style "名·父名" (rare).
const MINORITY_MALE: &[&str] = &["买买提", "艾力", "阿卜杜", "吐尔逊", "艾买提", "热合曼", "努尔", "亚森", "阿布都", "依明"];
const MINORITY_FEMALE: &[&str] =
    &["阿依古丽", "古丽娜尔", "热依拉", "迪丽娜尔", "帕提古丽", "阿依努尔", "米日古丽", "祖丽胡玛尔", "努尔古丽", "再努尔"];

/// A person's name, written without allocating.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Name {
    Han {
        surname: &'static str,
        given: [&'static str; 2],
    },
    /// `given·father`.
    Minority {
        given: &'static str,
        father: &'static str,
    },
}

impl Name {
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        match *self {
            Name::Han { surname, given } => {
                out.extend_from_slice(surname.as_bytes());
                out.extend_from_slice(given[0].as_bytes());
                out.extend_from_slice(given[1].as_bytes());
            }
            Name::Minority { given, father } => {
                out.extend_from_slice(given.as_bytes());
                out.extend_from_slice("·".as_bytes());
                out.extend_from_slice(father.as_bytes());
            }
        }
    }

    pub(crate) fn surname(&self) -> Option<&'static str> {
        match *self {
            Name::Han { surname, .. } => Some(surname),
            Name::Minority { .. } => None,
        }
    }

    pub(crate) fn minority_given(&self) -> Option<&'static str> {
        match *self {
            Name::Han { .. } => None,
            Name::Minority { given, .. } => Some(given),
        }
    }
}

pub(crate) struct People {
    surnames: Table<&'static str>,
}

impl People {
    pub(crate) fn new() -> People {
        People { surnames: Table::new(SURNAMES) }
    }

    pub(crate) fn surname(&self, rng: &mut Rng) -> &'static str {
        self.surnames.pick(rng)
    }

    fn given_char(rng: &mut Rng, male: bool) -> &'static str {
        let own = if male { MALE } else { FEMALE };
        let r = rng.below((own.len() + NEUTRAL.len()) as u64) as usize;
        if r < own.len() { own[r] } else { NEUTRAL[r - own.len()] }
    }

    /// A Han name with the given surname (or a random one): one or two given characters.
    pub(crate) fn han(&self, rng: &mut Rng, male: bool, surname: Option<&'static str>) -> Name {
        let surname = surname.unwrap_or_else(|| self.surname(rng));
        let r = rng.below(100);
        let first = Self::given_char(rng, male);
        let given = if r < 18 {
            [first, ""]
        } else if r < 21 && !male {
            [first, first]
        } else {
            let mut second = Self::given_char(rng, male);
            if second == first {
                second = Self::given_char(rng, male);
            }
            [first, second]
        };
        Name::Han { surname, given }
    }

    /// A minority-style name; `father` fixes the part after the 间隔号.
    pub(crate) fn minority(&self, rng: &mut Rng, male: bool, father: Option<&'static str>) -> Name {
        let list = if male { MINORITY_MALE } else { MINORITY_FEMALE };
        let given = list[rng.below(list.len() as u64) as usize];
        let father = father.unwrap_or_else(|| MINORITY_MALE[rng.below(MINORITY_MALE.len() as u64) as usize]);
        Name::Minority { given, father }
    }

    /// A random person: about 3 in 1000 names are minority-style.
    pub(crate) fn any(&self, rng: &mut Rng, male: bool) -> Name {
        if rng.chance(3) { self.minority(rng, male, None) } else { self.han(rng, male, None) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn char_len(s: &str) -> usize {
        s.chars().count()
    }

    #[test]
    fn pools_split_one_way_only_and_have_no_repeats() {
        for pool in [&DIVISIONS, &TOWNS, &VILLAGES, &ROADS] {
            for list in [pool.a, pool.b, pool.c] {
                let set: HashSet<_> = list.iter().collect();
                assert_eq!(set.len(), list.len(), "{list:?}");
                assert!(list.iter().all(|s| !s.is_empty() && !s.contains([',', '"'])));
            }
            assert!(pool.a.iter().all(|s| char_len(s) == char_len(pool.a[0])));
            assert!(pool.c.iter().all(|s| char_len(s) == char_len(pool.c[0])));
            let mut rng = Rng::derive(7, 7, 7);
            let namer = Namer::new(pool, &mut rng);
            let mut names = HashSet::new();
            for i in 0..namer.capacity() {
                let mut s = String::new();
                assert!(namer.name(i, &mut s));
                assert!(names.insert(s));
            }
            assert!(!namer.name(namer.capacity(), &mut String::new()));
        }
        // Division names would read oddly with a doubled character.
        assert!(DIVISIONS.a.iter().all(|a| !DIVISIONS.b.contains(a)));
    }

    #[test]
    fn person_names_are_plausible() {
        let people = People::new();
        let mut rng = Rng::derive(1, 1, 1);
        for i in 0..2000 {
            let n = people.any(&mut rng, i % 2 == 0);
            let mut b = Vec::new();
            n.write(&mut b);
            let s = String::from_utf8(b).unwrap();
            assert!((2..=12).contains(&char_len(&s)), "{s}");
            assert!(!s.chars().any(|c| c.is_ascii()));
        }
    }
}
