/** Words the demo tenant's events are made of (names, places, titles, series kinds). */

const words = (text: string) => text.split('|');
export const FIRST = words(
  'Alice|Bo|Chen|Dana|Erik|Fang|Grace|Hiro|Ivy|Jun|Kai|Lena|Ming|Nora|Omar|Ping|Quinn|Rui|Sara|Tao|Uma|Victor|Wen|Xin|Yara|Zoe',
);
export const LAST = words(
  'Wang|Li|Zhang|Liu|Chen|Smith|Mueller|Tanaka|Garcia|Huang|Brown|Zhao|Novak|Kim|Wu|Schmidt|Lopez|Sun|Taylor|Ma',
);
export const ROOM_THEMES = words(
  'Huangpu|Pudong|Xuhui|Hudson|Spree|Harbour|Bund|West Lake|Summit|Atlas|Orion|Lotus',
);
export const CITIES = words('Shanghai|Beijing|Shenzhen|New York|Berlin|Sydney|London|Singapore');
export const COMPANIES = words('Acme|Globex|Initech|Umbrella Labs|Hooli|Stark Trading');
export const EXTERNAL = words('acme.example.org|globex.example.net|partners.example.io');
export const PLACES = words(
  'Starbucks Reserve;789 Nanjing West Rd, Shanghai|Client office;1 Example Plaza, New York|' +
    'Cafe Einstein;Unter den Linden 42, Berlin|Harbour Bistro;12 Circular Quay, Sydney|' +
    '北京国贸中心;北京市朝阳区建国门外大街1号',
).map((p) => p.split(';') as [string, string]);
export const TIMED_TITLES = words(
  'Customer call: {company}|Interview: {first} {last}|Lunch with {other}|Architecture discussion|' +
    'Vendor demo: {company}|需求评审|产品发布会准备|Quarterly review|Coffee chat with {other}|Flight to {city}|' +
    'Dentist|Budget sync|Hiring committee|客户拜访：{company}|Incident post-mortem|Launch go/no-go|Board prep|' +
    'Workshop: OKRs 🎯',
);
export const ALLDAY_TITLES = words(
  'Public holiday|Conference day|Out of office|Training day|年假|Moving day|Release day',
);
export const MULTIDAY_TITLES = words(
  'Vacation|Business trip to {city}|Conference in {city}|出差：{city}|Team offsite',
);
export const DESCRIPTIONS = words(
  '||Agenda:\n1. Status\n2. Risks\n3. Next steps|Notes: https://docs.example.cn/doc/{id}|' +
    '请提前阅读材料。\nPlease read the pre-read.|Dial-in details in the invite.|Bring your laptop.',
);

export type SeriesKind =
  | 'daily'
  | 'weekdays'
  | 'weekly'
  | 'monthlyDay'
  | 'monthlyNth'
  | 'yearly'
  | 'allDayWeekly';
export const SERIES: Record<SeriesKind, { titles: string[]; minutes: number[]; allDay?: boolean }> = {
  daily: { titles: words('Daily standup|每日站会|Morning sync|Ops handover'), minutes: [15, 15, 30] },
  weekdays: { titles: words('Standup|Focus time|Lunch break'), minutes: [15, 60, 90] },
  weekly: {
    titles: words('1:1 with {other}|Team meeting|项目周会|Design review|Sprint planning|Yoga'),
    minutes: [30, 45, 60, 60, 90, 120],
  },
  monthlyDay: { titles: words('Monthly business review|月度复盘|Invoice run|All hands'), minutes: [60, 90] },
  monthlyNth: { titles: words('Release planning|Book club|Security review|Town hall'), minutes: [60, 120] },
  yearly: {
    titles: words('{other} birthday|Work anniversary|Company founding day'),
    minutes: [],
    allDay: true,
  },
  allDayWeekly: { titles: words('Work from home|On call|No-meeting day'), minutes: [], allDay: true },
};

/** The zones users live in (half of them in the first). */
export const TIME_ZONES = [
  'Asia/Shanghai',
  'America/New_York',
  'Europe/Berlin',
  'Australia/Sydney',
  'UTC',
] as const;
