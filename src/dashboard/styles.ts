/** The dashboard's stylesheet: system colours (dark mode follows the system), phone-first layout. */
export const STYLES = `
:root {
  color-scheme: light dark;
  --bg: #f7f7f8; --fg: #1b1d21; --muted: #5d6470; --card: #ffffff; --line: #dfe2e7;
  --accent: #2557d6; --on-accent: #ffffff; --ok: #1a7f37; --bad: #c62828; --warn: #a15c00; --code: #f0f1f4;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111317; --fg: #e6e8eb; --muted: #9aa3ae; --card: #1a1d23; --line: #2c3139;
    --accent: #7aa2ff; --on-accent: #111317; --ok: #4cc26a; --bad: #ff6b6b; --warn: #f0b44c; --code: #22262d;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
a { color: var(--accent); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem 1rem; padding: .5rem 1rem;
  background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { font-size: 1rem; margin: 0 .5rem 0 0; }
nav { display: flex; flex-wrap: wrap; gap: .25rem; }
nav a { padding: .35rem .6rem; border-radius: 6px; text-decoration: none; color: var(--fg); }
nav a[aria-current="page"] { background: var(--accent); color: var(--on-accent); }
main { padding: 1rem; max-width: 1400px; margin: 0 auto; }
h2 { font-size: 1.15rem; margin: .25rem 0 .75rem; }
h3 { font-size: 1rem; margin: 1rem 0 .5rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: .75rem; margin-bottom: 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem; }
.card .label { color: var(--muted); font-size: .8rem; }
.card .value { font-size: 1.5rem; font-variant-numeric: tabular-nums; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); gap: 1rem; }
.scroll { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .8rem; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
ul.plain { list-style: none; margin: 0; padding: 0; }
tr:last-child td { border-bottom: 0; }
.mono, code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
pre { background: var(--code); padding: .6rem; border-radius: 6px; overflow: auto; max-height: 24rem; white-space: pre-wrap; word-break: break-word; }
.state { padding: .05rem .4rem; border-radius: 4px; font-size: .8rem; border: 1px solid var(--line); white-space: nowrap; }
.state-succeeded, .state-completed, .state-alive { color: var(--ok); }
.state-failed, .state-dead, .state-lost { color: var(--bad); }
.state-retrying, .state-suspended, .state-paused { color: var(--warn); }
.toolbar { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: .75rem; }
label { display: flex; flex-direction: column; gap: .15rem; font-size: .8rem; color: var(--muted); }
input, select, button, textarea { font: inherit; color: var(--fg); background: var(--card); border: 1px solid var(--line);
  border-radius: 6px; padding: .35rem .55rem; }
button { cursor: pointer; }
button.primary { background: var(--accent); color: var(--on-accent); border-color: var(--accent); }
button.danger { color: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .5; cursor: default; }
.actions { display: flex; flex-wrap: wrap; gap: .35rem; }
main > .actions { margin-bottom: .75rem; }
.notice { padding: .5rem .75rem; border-radius: 6px; margin-bottom: .75rem; border: 1px solid var(--line); background: var(--card); }
.notice.error { border-color: var(--bad); color: var(--bad); }
.muted { color: var(--muted); }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; word-break: break-word; }
.chart { margin: 0; }
.chart svg { width: 100%; height: 160px; display: block; }
.chart .legend { display: flex; gap: 1rem; font-size: .8rem; color: var(--muted); }
.swatch { display: inline-block; width: .7rem; height: .7rem; border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
.timeline { list-style: none; padding: 0; margin: 0; border-left: 2px solid var(--line); }
.timeline li { padding: .3rem 0 .3rem .8rem; position: relative; }
.timeline li::before { content: ""; position: absolute; left: -6px; top: .75rem; width: 10px; height: 10px; border-radius: 50%; background: var(--accent); }
.loading { padding: 1rem; color: var(--muted); }
@media (max-width: 600px) {
  main { padding: .6rem; }
  header { padding: .5rem .6rem; }
  .card .value { font-size: 1.2rem; }
  th, td { padding: .35rem .4rem; }
  .hide-narrow { display: none; }
}
`;
