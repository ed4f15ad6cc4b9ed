/** The UI's one stylesheet, served from /ui/assets/app.css (no CDN, no client framework, no scripts). */
export const APP_CSS = `
:root { --fg:#1a1a1a; --muted:#4a4a4a; --bg:#ffffff; --panel:#f4f5f7; --line:#c9ccd1; --accent:#0b57d0; --ok:#17612f; --bad:#a1121b; --warn:#7a4b00; }
* { box-sizing: border-box; }
body { margin:0; font:16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline:3px solid #f5b400; outline-offset:2px; }
.skip { position:absolute; left:-9999px; } .skip:focus { left:1rem; top:1rem; background:#fff; padding:.5rem; z-index:10; }
header.top { display:flex; flex-wrap:wrap; gap:1rem; align-items:center; justify-content:space-between; padding:.75rem 1.5rem; background:#12263f; color:#fff; }
header.top a { color:#fff; } header.top nav ul { display:flex; gap:1rem; list-style:none; margin:0; padding:0; flex-wrap:wrap; }
header.top form { display:inline; } header.top button { background:transparent; color:#fff; border:1px solid #fff; }
main { max-width:1200px; margin:0 auto; padding:1rem 1.5rem 3rem; }
h1 { font-size:1.6rem; margin:.5rem 0 1rem; } h2 { font-size:1.3rem; margin-top:2rem; border-bottom:1px solid var(--line); padding-bottom:.25rem; }
table { border-collapse:collapse; width:100%; margin:.5rem 0 1rem; } th, td { border:1px solid var(--line); padding:.35rem .5rem; text-align:left; vertical-align:top; }
th { background:var(--panel); } .scroll { overflow-x:auto; }
dl.kv { display:grid; grid-template-columns:max-content 1fr; gap:.25rem 1rem; } dl.kv dt { font-weight:600; } dl.kv dd { margin:0; overflow-wrap:anywhere; }
code, .digest { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:.9em; overflow-wrap:anywhere; }
.badge { display:inline-block; padding:0 .5rem; border-radius:1rem; font-weight:600; font-size:.85rem; border:1px solid currentColor; }
.pass, .ok { color:var(--ok); } .fail, .bad { color:var(--bad); } .inconclusive, .warn { color:var(--warn); }
.alert { padding:.75rem 1rem; border-left:4px solid var(--bad); background:#fdecee; margin:1rem 0; }
.notice { padding:.75rem 1rem; border-left:4px solid var(--ok); background:#e9f5ec; margin:1rem 0; }
.info { padding:.75rem 1rem; border-left:4px solid var(--accent); background:#eef3fc; margin:1rem 0; }
td, th { overflow-wrap:anywhere; }
table.decisions { table-layout:fixed; } table.decisions col.c-stage { width:13rem; } table.decisions col.c-step { width:4.5rem; }
table.decisions col.c-verdict { width:7rem; } table.decisions col.c-measured { width:12rem; } table.decisions col.c-time { width:13rem; }
.dossier-frame { border:1px solid var(--line); border-radius:4px; padding:.5rem 1rem; overflow-x:auto; max-width:100%; }
form.stack { display:grid; gap:.75rem; max-width:40rem; } label { font-weight:600; display:block; }
input[type=text], input[type=password], select, textarea { width:100%; font:inherit; padding:.45rem; border:1px solid #6b7078; border-radius:4px; }
fieldset { border:1px solid var(--line); border-radius:4px; } .hint { color:var(--muted); font-size:.9rem; font-weight:normal; }
button { font:inherit; padding:.5rem 1rem; border-radius:4px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; }
button.danger { background:var(--bad); border-color:var(--bad); }
.manifestation { border:1px solid var(--line); border-radius:4px; padding:.5rem .75rem; margin:.5rem 0; background:var(--panel); }
.report { border:1px solid var(--line); padding:.5rem; overflow-x:auto; }
ol.timeline { list-style:none; padding-left:0; border-left:3px solid var(--line); } ol.timeline > li { margin:0 0 1rem 1rem; }
@media (max-width: 800px) { main { padding:1rem; } dl.kv { grid-template-columns:1fr; } h1 { font-size:1.35rem; } }
`;
