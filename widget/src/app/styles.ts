// The window's styles, scoped by the shadow root. Colors are variables so dark mode and the
// tenant's color are one place each; --p-color/--p-on-color come from the host element.
export const CSS = `
*{box-sizing:border-box}
.app{--bg:#fff;--fg:#111827;--muted:#4b5563;--line:#e5e7eb;--bot:#f3f4f6;--link:#1d4ed8;--danger:#b91c1c;--ring:var(--p-ring,var(--link));color:var(--fg)}
@media (prefers-color-scheme:dark){.app{--bg:#111827;--fg:#f9fafb;--muted:#d1d5db;--line:#374151;--bot:#1f2937;--link:#93c5fd;--danger:#fca5a5;--ring:var(--p-ring-dark,var(--link))}}
.window{position:fixed;bottom:calc(var(--p-y,20px) + 68px);right:var(--p-x,20px);width:380px;height:min(640px,calc(100vh - 108px));display:flex;flex-direction:column;background:var(--bg);color:var(--fg);border-radius:14px;box-shadow:0 12px 40px rgb(0 0 0/.3);overflow:hidden;animation:rise .18s ease-out;font-family:var(--p-font,inherit)}
:host([data-position=left]) .window{right:auto;left:var(--p-x,20px)}
.window[hidden]{display:none}
@keyframes rise{from{opacity:0;transform:translateY(12px)}}
@media (max-width:480px){.window{inset:0;width:100%;height:100%;max-height:none;border-radius:0}}
.head{display:flex;align-items:center;gap:10px;padding:12px 12px 12px 16px;background:var(--p-color);color:var(--p-on-color)}
.head img{width:32px;height:32px;border-radius:50%;object-fit:cover}
.head .who{flex:1;min-width:0}
.head h2{margin:0;font-size:16px;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.status{margin:0;font-size:12px;display:flex;align-items:center;gap:6px}
.status:empty{display:none}
.status[data-state=offline]:before{content:"";width:8px;height:8px;border-radius:50%;background:#f59e0b;border:1px solid currentColor}
button{font:inherit;color:inherit;cursor:pointer}
button:disabled{cursor:default;opacity:.55}
:focus{outline:none}
:focus-visible{outline:2px solid var(--ring);outline-offset:2px}
.window:focus-visible{outline:none}
.head :focus-visible{outline-color:currentColor}
.icon{all:unset;display:grid;place-items:center;width:36px;height:36px;border-radius:8px;cursor:pointer}
.icon:hover{background:rgb(0 0 0/.12)}
.icon svg{width:20px;height:20px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.log{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain;overflow-anchor:none}
.msg{display:flex;flex-direction:column;align-items:flex-start;max-width:85%}
.msg[data-role=user]{align-self:flex-end;align-items:flex-end}
.msg[data-role=system]{align-self:center;max-width:100%;font-size:13px;color:var(--muted);text-align:center}
.bubble{padding:9px 13px;border-radius:14px;background:var(--bot);overflow-wrap:anywhere;white-space:normal}
.msg[data-role=user] .bubble{background:var(--p-color);color:var(--p-on-color);white-space:pre-wrap}
.msg[data-role=user] .bubble a{color:inherit}
.msg[data-role=system] .bubble{background:none;padding:2px 8px}
.msg[data-local=failed] .bubble{outline:2px solid var(--danger)}
.bubble p,.bubble ul,.bubble ol,.bubble pre{margin:0 0 .5em}
.bubble>:last-child{margin-bottom:0}
.bubble ul,.bubble ol{padding-inline-start:1.3em}
.bubble code{font:13px ui-monospace,monospace;background:rgb(127 127 127/.18);padding:1px 4px;border-radius:4px}
.bubble pre{overflow-x:auto;white-space:pre}
.bubble a,.sources a,.link{color:var(--link)}
.author{display:flex;align-items:center;gap:6px;font-size:12px;color:var(--muted);margin-bottom:3px}
.author img{width:20px;height:20px;border-radius:50%}
.meta{display:flex;align-items:center;gap:6px;font-size:11px;color:var(--muted);margin-top:3px}
.meta .err{color:var(--danger)}
.link{all:unset;color:var(--link);text-decoration:underline;cursor:pointer;font-size:12px}
.thumb{all:unset;cursor:pointer;padding:2px 4px;border-radius:6px;line-height:1}
.thumb svg{width:14px;height:14px;fill:none;stroke:currentColor;stroke-width:2}
.thumb[aria-pressed=true]{color:var(--link)}
.thumb[aria-pressed=true] svg{fill:currentColor}
.sources{font-size:12px;margin-top:4px;color:var(--muted)}
.sources summary{cursor:pointer;list-style:none;display:inline-flex;align-items:center;gap:4px;border-radius:6px}
.sources summary::-webkit-details-marker{display:none}
.sources summary:after{content:"";width:6px;height:6px;border:solid currentColor;border-width:0 1.5px 1.5px 0;transform:rotate(45deg) translateY(-2px)}
.sources[open] summary:after{transform:rotate(-135deg)}
.sources ul{margin:4px 0 0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:4px}
.sources li{border:1px solid var(--line);border-radius:999px;padding:2px 8px;max-width:100%;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bubble table{border-collapse:collapse;width:100%;margin:0 0 .5em;font-size:13px;table-layout:fixed}
.bubble th,.bubble td{border:1px solid var(--line);padding:4px 6px;text-align:start;vertical-align:top;overflow-wrap:anywhere}
.bubble th{background:rgb(127 127 127/.12);font-weight:600}
.team{display:flex;flex-shrink:0}
.team img{margin-inline-start:-8px;border:2px solid var(--p-color)}
.team img:first-child{margin-inline-start:0}
.confirm{margin:0 12px 8px;padding:10px 12px;border:1px solid var(--line);border-radius:10px;font-size:13px;display:flex;flex-wrap:wrap;align-items:center;gap:8px}
.confirm p{margin:0;flex:1 1 100%}
.confirm button{border:1px solid var(--line);background:var(--bg);border-radius:8px;padding:6px 10px}
.confirm .go{background:var(--p-color);color:var(--p-on-color);border-color:var(--p-color)}
.chips{display:flex;flex-wrap:wrap;gap:6px}
.chip{border:1px solid var(--p-color);background:var(--bg);color:var(--fg);border-radius:999px;padding:6px 12px;font-size:13px}
.chip:hover{background:var(--bot)}
.greeting{align-self:flex-start;max-width:85%}
.seen{margin:-4px 4px 0;font-size:11px;color:var(--muted);text-align:end}
.typing{display:flex;gap:4px;padding:12px 14px;background:var(--bot);border-radius:14px;align-self:flex-start}
.typing i{width:7px;height:7px;border-radius:50%;background:var(--muted);animation:blink 1.2s infinite}
.typing i:nth-child(2){animation-delay:.2s}.typing i:nth-child(3){animation-delay:.4s}
@keyframes blink{50%{opacity:.25}}
.notice{font-size:13px;color:var(--muted);text-align:center;padding:0 16px 6px;margin:0}
.actions{display:flex;justify-content:center;gap:12px;padding:0 12px 6px}
.composer{position:relative;display:flex;align-items:flex-end;gap:8px;padding:10px 12px 12px;border-top:1px solid var(--line)}
.tool{all:unset;width:28px;height:40px;text-align:center;font-size:18px;cursor:pointer;border-radius:8px}
.field{flex:1;display:flex;flex-direction:column}
textarea{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:10px;padding:8px 10px;resize:none;max-height:140px;min-height:40px;width:100%;font-size:16px}
textarea:focus-visible{outline-offset:0}
.counter{font-size:11px;color:var(--muted);text-align:end;margin-top:2px}
.counter[hidden]{display:none}
.counter[data-over=true]{color:var(--danger)}
.send{all:unset;display:grid;place-items:center;width:40px;height:40px;border-radius:10px;background:var(--p-color);color:var(--p-on-color);cursor:pointer}
[dir=rtl] .send svg{transform:scaleX(-1)}
.send:disabled{opacity:.5;cursor:default}
.send svg{width:20px;height:20px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}
`;
