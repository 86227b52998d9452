/**
 * The site's one stylesheet, inlined into every page so that reading needs no second request.
 * Its SHA-256 goes into the Content-Security-Policy, so no other inline style can run.
 */
export const siteCss = `
:root{color-scheme:light dark;--fg:#1d1d1f;--muted:#55555c;--bg:#fdfcfa;--accent:#0b5cad;--rule:#dedbd4;--panel:#f3f0ea;--max:42rem}
@media (prefers-color-scheme:dark){:root{--fg:#ecebe8;--muted:#b4b2ad;--bg:#17181a;--accent:#8ab8ff;--rule:#3a3b3e;--panel:#222326}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:1.125rem/1.65 Charter,"Bitstream Charter","Sitka Text",Cambria,Georgia,serif}
a{color:var(--accent);text-underline-offset:.15em}
a:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem;z-index:1}
.site-search form{display:flex;gap:.4rem;align-items:center}.site-search label{font-size:.9rem;color:var(--muted)}
.site-search input{width:9rem;min-height:2.75rem;font:inherit;padding:.3rem .5rem;border:1px solid var(--muted);border-radius:.35rem;background:var(--bg);color:var(--fg)}
.search-page form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-bottom:1.5rem}.search-page label{flex-basis:100%;font-weight:600}
.search-page input{flex:1;min-width:12rem;margin:0}.search-results li{margin-bottom:1rem}.search-results p{margin:.25rem 0 0}
header.site,main,footer.site{max-width:var(--max);margin:0 auto;padding:0 1.25rem}
header.site{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;align-items:baseline;justify-content:space-between;padding-top:1rem;padding-bottom:1rem;border-bottom:1px solid var(--rule);font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.brand{font-weight:700;text-decoration:none;color:var(--fg)}
nav.primary ul{display:flex;flex-wrap:wrap;gap:1rem;list-style:none;margin:0;padding:0;font-size:1rem}
nav.primary a{display:inline-block;padding:.5rem 0}
header.admin,header.admin~main{max-width:72rem}header.admin~main table{border-collapse:collapse}.scroll{max-width:100%;overflow-x:auto}header.admin~main th,header.admin~main td{padding:.35rem .75rem;text-align:left;border-bottom:1px solid var(--rule);vertical-align:top}header.admin~main caption{text-align:left;font-style:italic;padding:.25rem 0}figure.chart{margin:0}figure.chart svg{min-width:40rem}form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end}form.filters p{margin:0}form.filters input,form.filters select{width:auto}header.admin form{margin:0}nav.primary a[aria-current=page]{font-weight:700}
.crumbs ol{display:flex;flex-wrap:wrap;align-items:baseline;list-style:none;margin:1.25rem 0 0;padding:0;font:.95rem/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--muted)}
.crumbs li+li::before{content:">";padding:0 .5rem}
.crumbs a{display:inline-block;padding:.25rem 0}
h1,h2,h3{line-height:1.25;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:clamp(1.8rem,5vw,2.4rem);margin:1rem 0 .5rem}
h2{font-size:1.45rem;margin:2.25rem 0 .5rem}
h2 a{color:inherit;text-decoration:none}h2 a:hover{text-decoration:underline}
.meta{color:var(--muted);font-size:.95rem;margin:0 0 1.5rem}
.lede{font-size:1.2rem;color:var(--muted)}
.toc{background:var(--panel);border-radius:.5rem;padding:.75rem 1.25rem;margin:1.5rem 0}
.toc h2{font-size:1rem;margin:.25rem 0}.toc ol{margin:.25rem 0;padding-left:1.25rem}
.toc li{padding:.2rem 0}
.cards{list-style:none;padding:0}.cards li{border-top:1px solid var(--rule);padding:1rem 0}
.cards h3{margin:0 0 .25rem;font-size:1.2rem}.cards p{margin:.25rem 0}
.cta{border:2px solid var(--accent);border-radius:.5rem;padding:1rem 1.25rem;margin:2.5rem 0}
.cta p{margin:.25rem 0}.cta a{font-weight:700}
form.signup{background:var(--panel);border-radius:.5rem;padding:1rem 1.25rem;margin:2rem 0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1rem}
form.signup h2{margin-top:.25rem}form.signup p{margin:.5rem 0}
form.signup label{display:block;font-weight:600;margin-bottom:.25rem}
form input:not([type=checkbox]):not([type=radio]):not([type=hidden]),form select{width:100%;min-height:2.75rem;font:inherit;padding:.6rem .7rem;border:1px solid var(--muted);border-radius:.35rem;background:var(--bg);color:var(--fg)}
form.signup .consent{display:flex;gap:.6rem;align-items:flex-start}form.signup .consent label{font-weight:400}
form.signup input[type=checkbox],form.signup input[type=radio]{width:1.4rem;height:1.4rem;margin:.15rem 0 0;flex:none}
button,.button{font:inherit;font-weight:700;min-height:2.75rem;min-width:2.75rem;padding:.7rem 1.3rem;border:0;border-radius:.35rem;background:var(--accent);color:var(--bg);cursor:pointer}
.hint{color:var(--muted);font-weight:400;font-size:.9rem}
.field-error,.notice.error{color:#b3261e;font-weight:600}
@media (prefers-color-scheme:dark){.field-error,.notice.error{color:#ffb4ab}}
.hp{position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden}
.notice{border-left:4px solid var(--accent);padding:.5rem 1rem;background:var(--panel)}
dd{overflow-wrap:anywhere}pre{white-space:pre-wrap;overflow-wrap:anywhere}
footer.site{border-top:1px solid var(--rule);margin-top:3rem;padding-top:1rem;padding-bottom:2rem;color:var(--muted);font-size:.9rem}
@media print{header.site nav,.site-search,.skip,.toc,.cta{display:none}body{background:#fff;color:#000;font-size:12pt}a{color:#000}main a[href^="http"]::after{content:" (" attr(href) ")"}h2{break-after:avoid}p{orphans:3;widows:3}}
`
  .trim()
  .replace(/\n/g, '')
