/** The console's one stylesheet, served as /assets/console.css (the CSP forbids inline styles). */
export const CONSOLE_CSS = `
:root { color-scheme: light; --fg: #1d2129; --muted: #646a73; --line: #dee0e3; --accent: #3370ff; --bad: #d83931; --ok: #2ea121; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #f5f6f7; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
header nav { display: flex; gap: 1rem; flex: 1; }
header nav a { color: var(--muted); text-decoration: none; padding: .2rem 0; }
header nav a[aria-current=page] { color: var(--accent); border-bottom: 2px solid var(--accent); }
.who { display: flex; gap: .5rem; align-items: center; color: var(--muted); }
main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f2f3f5; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bad { color: var(--bad); } .ok { color: var(--ok); } .muted { color: var(--muted); }
.notice { background: #e8f0ff; border: 1px solid #bacefd; padding: .5rem .8rem; }
button, .button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary { background: #fff; color: var(--accent); }
form.inline { display: inline; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: .8rem; }
.card { background: #fff; border: 1px solid var(--line); padding: .6rem .8rem; }
.card strong { display: block; font-size: 1.5rem; }
.chart { width: 100%; max-width: 760px; background: #fff; border: 1px solid var(--line); }
.chart .bar, .key.bar { fill: #9fb8fa; background: #9fb8fa; }
.chart .latency { fill: none; stroke: #f80; stroke-width: 2; }
.chart .latency-dot { fill: #f80; } .key.latency { background: #f80; }
.chart .axis { stroke: var(--muted); } .chart .tick { font-size: 10px; fill: var(--muted); }
.key { display: inline-block; width: .8rem; height: .8rem; vertical-align: middle; }
.versions { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: .5rem; }
code { font-size: .9em; word-break: break-all; }
`;
