//! `insert_html` on a 5 MB body (target: under 30 ms) and on an ordinary 30 KB reply.
//!
//! The body is a long Outlook-style thread: Word markup with conditional comments, tables,
//! quoted replies each with an earlier leakwatch pixel to remove, ordinary images to keep;
//! the notice goes before the first quoted header (classic Outlook's `Van:` block).
//! Run: `cargo bench -p leakwatch-core --bench disclose`; the median is in
//! `target/criterion/insert_html/5MB/new/estimates.json`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakwatch_core::disclose::{
    insert_html, Disclosure, DisclosurePolicy, InfoUrl, Insertion, PixelUrl, Placement,
};
use leakwatch_core::Lang;

const HEAD: &str = r##"<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns="http://www.w3.org/TR/REC-html40"><head><meta http-equiv=Content-Type content="text/html; charset=utf-8"><meta name=Generator content="Microsoft Word 15 (filtered medium)"><style><!--
p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif;}
a:link, span.MsoHyperlink {mso-style-priority:99; color:#0563C1; text-decoration:underline;}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--></head><body lang=NL link="#0563C1" vlink="#954F72" style='word-wrap:break-word'><div class=WordSection1>
"##;

/// One quoted message of the thread, about 2.3 KB.
fn message(i: usize) -> String {
    format!(
        r#"<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b>Van:</b> Jan Jansen &lt;jan.jansen@klantbedrijf.nl&gt;<br><b>Verzonden:</b> maandag 3 maart 2025 09:{m:02}<br><b>Onderwerp:</b> RE: Dossier {i}<o:p></o:p></p></div>
<p class=MsoNormal><span style='font-size:11.0pt'>Beste Petra, hierbij de stukken voor dossier {i}. Kun je de bedragen &amp; data controleren? De vorige versie bevatte een fout in de tabel.<o:p></o:p></span></p>
<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0 style='border-collapse:collapse;border:none'><tr><td width=200 valign=top style='width:150.0pt;border:solid windowtext 1.0pt;padding:0cm 5.4pt 0cm 5.4pt'><p class=MsoNormal>Post<o:p></o:p></p></td><td width=200 valign=top style='width:150.0pt;border:solid windowtext 1.0pt;padding:0cm 5.4pt 0cm 5.4pt'><p class=MsoNormal>&euro; {i},00<o:p></o:p></p></td></tr></table>
<!--[if mso]><p class=MsoNormal>Alleen in Outlook: </body> in commentaar<o:p></o:p></p><![endif]-->
<blockquote style='border:none;border-left:solid #CCCCCC 1.0pt;padding:0cm 0cm 0cm 6.0pt;margin-left:4.8pt'><p class=MsoNormal>Eerder bericht {i} met een oude pixel <img border=0 width=1 height=1 id="_x0000_i10{m:02}" src="https://leakwatch.gemeente-voorbeeld.nl/p/old{i}" alt=""> en een logo <img width=120 height=40 src="https://cdn.example.com/logo.png" alt="Logo"><o:p></o:p></p>
<script type="text/x-template"><p>sjabloon</p></body></script>
<p class=MsoNormal><span style='font-size:10.0pt;color:#444444'>Privacymelding: deze e-mail kan een klein plaatje bevatten dat vastlegt wanneer de e-mail wordt geopend. Meer informatie: <a href="https://leakwatch.gemeente-voorbeeld.nl/i/old{i}">https://leakwatch.gemeente-voorbeeld.nl/i/old{i}</a><o:p></o:p></span></p></blockquote>
<p class=MsoNormal><o:p>&nbsp;</o:p></p>
"#,
        m = i % 60
    )
}

fn body(target_len: usize) -> String {
    let mut body = String::with_capacity(target_len + 4096);
    body.push_str(HEAD);
    let mut i = 0;
    while body.len() < target_len {
        body.push_str(&message(i));
        i += 1;
    }
    body.push_str("</div></body></html>\n");
    body
}

fn insertion() -> Insertion {
    let info = InfoUrl::parse("https://leakwatch.gemeente-voorbeeld.nl/i/newtoken42").unwrap();
    let pixel = PixelUrl::parse("https://leakwatch.gemeente-voorbeeld.nl/p/newtoken42").unwrap();
    let disclosure = Disclosure::new(&DisclosurePolicy::default(), Lang::Nl, info).unwrap();
    Insertion::Tracked(disclosure.track(pixel))
}

fn bench(c: &mut Criterion) {
    let insertion = insertion();
    let mut group = c.benchmark_group("insert_html");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(10));
    for (name, len) in [("5MB", 5 * 1024 * 1024), ("30KB", 30 * 1024)] {
        let body = body(len);
        // Sanity: every old pixel is found, the block lands once.
        let out = insert_html(&body, &insertion).unwrap();
        assert_eq!(out.removed_pixels(), body.matches("/p/old").count());
        assert_eq!(out.html.matches("data-leakwatch-info").count(), 1);
        assert_eq!(out.placement, Placement::BeforeQuote);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| insert_html(black_box(&body), black_box(&insertion)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
