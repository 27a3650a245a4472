//! Search that says what it found, on a small library written for it: short queries ranked by
//! the whole query rather than by their function syllables, partial matches shown as such,
//! searches the library cannot answer reported as gaps, marks the library lacks explained,
//! loanwords and abbreviations in their other spellings, and hits that open at their section.

use serde_json::Value;

use crate::util::{TestApp, urlencode};

/// Writes one material of a test library at `path` ("category/name.md").
fn material(lib: &std::path::Path, path: &str, title: &str, body: &str) {
    let p = lib.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let category = path.split('/').next().unwrap();
    std::fs::write(
        p,
        format!("+++\ntitle = \"{title}\"\ncategory = \"{category}\"\n+++\n{body}\n"),
    )
    .unwrap();
}

/// The library of these tests, replacing the fixture's.
fn small_library(lib: &std::path::Path) {
    std::fs::remove_dir_all(lib).unwrap();
    let write = |path: &str, title: &str, category: &str, body: &str| {
        assert!(path.starts_with(category));
        material(lib, path, title, body);
    };
    write(
        "agriculture/trong-lua.md",
        "Trồng lúa nước vụ xuân",
        "agriculture",
        "Trồng lúa cần làm mạ đúng lịch thời vụ của xã.\n\n\
         ## Làm mạ\n\nNgâm ủ thóc giống hai ngày rồi gieo mạ trên ruộng gần nhà.\n\n\
         ## Bón phân cho lúa\n\nBón lót phân chuồng trước khi cấy. Bón thúc đạm khi lúa đẻ nhánh.\n",
    );
    write(
        "agriculture/nuoi-ga.md",
        "Nuôi gà thả vườn",
        "agriculture",
        "Nuôi gà trong vườn có hàng rào. Khi con cháu đi làm xa, ông bà vẫn cho gà ăn được.\n\n\
         ## Phòng bệnh\n\nBệnh Newcastle và bệnh cúm là hai bệnh hay gặp nhất; \
         gà bị bệnh phải nhốt riêng. Soi trứng trước khi cho gà ấp.\n",
    );
    write(
        "health/benh-soi.md",
        "Bệnh sởi ở trẻ em",
        "health",
        "Bệnh sởi lây qua đường hô hấp. Trẻ bị sởi sốt cao và phát ban.\n\n\
         ## Tiêm phòng\n\nTiêm vắc-xin sởi cho trẻ lúc 9 tháng tuổi và nhắc lại lúc 18 tháng.\n",
    );
    write(
        "health/sot-tre-em.md",
        "Khi trẻ sốt",
        "health",
        "Trẻ dưới 2 tháng tuổi bị sốt phải đưa đi khám ngay.\n\n\
         ## Chăm sóc tại nhà\n\nLau mát cho trẻ bằng nước ấm, cho bú nhiều hơn.\n",
    );
    write(
        "health/tieu-chay.md",
        "Tiêu chảy: pha Oresol đúng cách",
        "health",
        "Pha cả gói Oresol với đúng lượng nước ghi trên gói, không pha thêm đường.\n\n\
         ## Uống bao nhiêu\n\nTrẻ dưới 10 kg uống khoảng nửa cốc sau mỗi lần đi ngoài.\n",
    );
    write(
        "law/the-bhyt.md",
        "Thẻ bảo hiểm y tế cho trẻ dưới 6 tuổi",
        "law",
        "Trẻ dưới 6 tuổi được cấp thẻ bảo hiểm y tế miễn phí.\n\n\
         ## Làm thẻ ở đâu\n\nCha mẹ mang giấy khai sinh đến UBND xã để làm thẻ cho con.\n",
    );
    write(
        "law/bao-luc-gia-dinh.md",
        "Phòng, chống bạo lực gia đình",
        "law",
        "Bạo lực gia đình là đánh đập, chửi mắng, đe dọa người trong nhà. Giữa vợ chồng \
         cũng là bạo lực, và bị pháp luật xử phạt. Gọi công an xã hoặc đường dây 111.\n",
    );
    write(
        "agriculture/phun-thuoc.md",
        "Phun thuốc trừ sâu an toàn",
        "agriculture",
        "Chống sâu: phun sớm. Chống gió: đứng đầu gió. Chống say thuốc: đeo khẩu trang. \
         Đánh dấu ruộng vừa phun, đánh tiếng cho hàng xóm. Vỏ chai, vỏ gói thuốc bỏ vào hố riêng.\n",
    );
    // A long material whose last section is far past the first few kilobytes.
    let filler = "Trâu bò cần chuồng kín gió, khô ráo và được ăn đủ cỏ khô, rơm ủ. ".repeat(90);
    write(
        "agriculture/trau-bo.md",
        "Chăm sóc trâu bò",
        "agriculture",
        &format!(
            "{filler}\n\n## Bệnh lở mồm long móng\n\nGia súc chảy nhiều nước dãi, \
             chân có vết loét: báo ngay cho thú y xã.\n"
        ),
    );
    write(
        "life-skills/hoc-tap.md",
        "Học tập suốt đời ở trung tâm",
        "life-skills",
        "Trong cuộc sống, ai cũng có thể học. Học là để sống tốt hơn cho mình và cho con cháu. \
         Trong trung tâm có lớp học chữ, có sách cho mọi người, và có người hướng dẫn. \
         Trong bếp của trung tâm, giữ lửa cẩn thận.\n",
    );
}

async fn api(app: &TestApp, q: &str) -> Value {
    let res = app
        .get(&format!("/api/search?q={}&limit=20", urlencode(q)))
        .await;
    res.assert_status(200);
    res.json()
}

fn ids(v: &Value) -> Vec<String> {
    hits(v)
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

fn hits(v: &Value) -> impl Iterator<Item = &Value> {
    v["hits"].as_array().unwrap().iter()
}

fn hit<'a>(v: &'a Value, id: &str) -> &'a Value {
    hits(v)
        .find(|h| h["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {:?}", ids(v)))
}

#[tokio::test]
async fn short_queries_rank_the_whole_query_above_function_syllables() {
    let app = TestApp::with(small_library);
    // "trong" is in half the library ("trong vườn", "trong bếp"); only one material is about
    // growing rice.
    let v = api(&app, "trong lua").await;
    assert_eq!(ids(&v)[0], "agriculture/trong-lua", "{v}");
    assert_eq!(v["found"], true);
    assert_eq!(v["full"], 1, "{v}");
    assert_eq!(hit(&v, "agriculture/trong-lua")["match"], "full");
    assert_eq!(hit(&v, "life-skills/hoc-tap")["match"], "partial");
    // Full matches come first, then partial ones, never mixed.
    let kinds: Vec<&str> = hits(&v).map(|h| h["match"].as_str().unwrap()).collect();
    assert!(
        kinds.windows(2).all(|k| k != ["partial", "full"]),
        "{kinds:?}"
    );

    // Many "bệnh" and a "soi" in the chicken page do not beat the one page about measles.
    let v = api(&app, "benh soi").await;
    assert_eq!(ids(&v)[0], "health/benh-soi", "{v}");
    assert_eq!(hit(&v, "agriculture/nuoi-ga")["match"], "partial");

    // A query no material says in so many words ranks the one holding all its words, and
    // two of them together ("vợ chồng"), above one that repeats one of them ("chống").
    let v = api(&app, "chong danh vo").await;
    assert_eq!(ids(&v)[0], "law/bao-luc-gia-dinh", "{v}");

    // Four syllables or more may fall into pieces found apart, each of two or more side by
    // side: "trẻ em" and "bị sốt" in one material; a syllable on its own is not enough.
    let v = api(&app, "tre em bi sot").await;
    assert_eq!(hit(&v, "health/sot-tre-em")["match"], "partial", "{v}");
    let v = api(&app, "ho hap tiem phong").await;
    assert_eq!(ids(&v)[0], "health/benh-soi", "{v}");
    assert_eq!(hit(&v, "health/benh-soi")["match"], "full", "{v}");

    // Words of the query a little apart, in its order, still make a full match.
    let v = api(&app, "tre bi sot").await;
    assert_eq!(hit(&v, "health/sot-tre-em")["match"], "full", "{v}");

    // The same in capitals, as some type on a phone.
    assert_eq!(
        ids(&api(&app, "TRONG LUA").await),
        ids(&api(&app, "trong lua").await)
    );

    let page = app.get("/search?q=trong+lua").await.text();
    assert!(
        page.contains("Tìm thấy 1 tài liệu về «trong lua»"),
        "{page}"
    );
    assert!(page.contains("Có thể liên quan"), "{page}");
}

#[tokio::test]
async fn words_that_ask_do_not_have_to_be_in_the_answer() {
    let app = TestApp::with(small_library);
    // No page says "là gì" or "phải làm gì" after its subject; the page about it still answers.
    for (q, id) in [
        ("benh soi la gi", "health/benh-soi"),
        ("bệnh sởi là gì?", "health/benh-soi"),
        ("tre bi sot phai lam gi", "health/sot-tre-em"),
        ("bệnh sởi có lây không", "health/benh-soi"),
        ("soi lay nhu the nao", "health/benh-soi"),
        // "phải" before a phrase that asks belongs to it.
        ("tre bi sot thi phai lam sao", "health/sot-tre-em"),
    ] {
        let v = api(&app, q).await;
        assert_eq!(v["found"], true, "{q}: {v}");
        assert_eq!(ids(&v)[0], id, "{q}: {v}");
        assert_eq!(hit(&v, id)["match"], "full", "{q}: {v}");
    }
    // Asked about something the library does not hold, the question is still not answered.
    let v = api(&app, "nuoi ong nhu the nao").await;
    assert_eq!(v["found"], false, "{v}");
    // "nào" with its marks asks; "não" (brain) is a word of its own and must be found.
    let v = api(&app, "bệnh sởi não").await;
    assert_eq!(v["found"], false, "{v}");
    // A query of nothing but such words searches them as typed.
    let v = api(&app, "là gì").await;
    assert!(v["found"].is_boolean(), "{v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_search_the_library_cannot_answer_says_so_and_is_a_gap() {
    let mut app = TestApp::with(small_library);
    // "nuôi" and "ông" both occur in the chicken page, but nothing is about keeping bees.
    let v = api(&app, "nuoi ong").await;
    assert_eq!(v["found"], false, "{v}");
    assert_eq!(v["full"], 0);
    assert!(!ids(&v).is_empty(), "near matches are still shown");
    assert!(hits(&v).all(|h| h["match"] == "partial"), "{v}");

    let page = app.get("/search?q=nuoi+ong").await.text();
    assert!(page.contains("Chưa có tài liệu về «nuoi ong»"), "{page}");
    assert!(page.contains("Có thể liên quan"), "{page}");
    assert!(!page.contains("Tìm thấy"), "{page}");

    // Five people searched it: the manager's list of what the library lacks shows it, and
    // does not show a search that was answered.
    for _ in 0..5 {
        let c = app.device().await;
        app.get_with("/search?q=nuoi+ong", &[("cookie", &c)]).await;
        app.get_with("/search?q=trong+lua", &[("cookie", &c)]).await;
    }
    let d = hoclieu::clock::date_of(hoclieu::clock::local_day(app.state.now_ms()));
    let period = hoclieu::usage::report::Period::new(d, d).unwrap();
    let conn = app.flush();
    let r =
        hoclieu::usage::report::report(&conn, period, &hoclieu::usage::profile::default_groups())
            .unwrap();
    let gaps: Vec<&str> = r
        .zero_result_searches
        .iter()
        .map(|s| s.query.as_str())
        .collect();
    assert_eq!(gaps, ["nuoi ong"], "{:?}", r.zero_result_searches);
    hoclieu::accounts::set_password(
        &conn,
        "quanly",
        crate::admin::PASSWORD,
        hoclieu::accounts::Role::Manager,
        0,
    )
    .unwrap();
    let session = crate::admin::log_in(&app).await;
    let csv = app
        .get_with(
            "/admin/export/zero_result_searches.csv",
            &[("cookie", &session)],
        )
        .await;
    csv.assert_status(200);
    assert!(csv.text().contains("nuoi ong,"), "{}", csv.text());
    assert!(!csv.text().contains("trong lua"), "{}", csv.text());
}

#[tokio::test]
async fn marks_the_library_lacks_are_explained() {
    let app = TestApp::with(small_library);
    // No material has "lụa" (silk): rice is shown, but not as an answer.
    let v = api(&app, "lụa").await;
    assert_eq!(v["found"], false, "{v}");
    assert_eq!(v["missing"][0]["word"], "lụa");
    let instead: Vec<&str> = v["missing"][0]["instead"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        instead.contains(&"lúa") && instead.contains(&"lửa"),
        "{instead:?}"
    );
    assert_eq!(ids(&v)[0], "agriculture/trong-lua");
    let page = app
        .get(&format!("/search?q={}", urlencode("lụa")))
        .await
        .text();
    assert!(page.contains("Thư viện chưa có từ «lụa»"), "{page}");
    assert!(page.contains("«lúa»"), "{page}");
    // The same for words whose first letter carries the difference (d/đ, a/â).
    for (typed, kept) in [("dầu", "đầu"), ("âm", "ấm")] {
        let v = api(&app, typed).await;
        assert_eq!(v["missing"][0]["word"], typed, "{v}");
        assert!(
            v["missing"][0]["instead"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w == kept),
            "{typed}: {v}"
        );
    }

    // Typed with the library's own marks, nothing is missing.
    let v = api(&app, "lúa").await;
    assert_eq!(v["found"], true);
    assert!(v["missing"].as_array().unwrap().is_empty());
    // The same text in NFD is the same word.
    let nfd: String = unicode_normalization::UnicodeNormalization::nfd("lúa").collect();
    assert_eq!(api(&app, &nfd).await["found"], true);
}

#[tokio::test]
async fn loanwords_and_abbreviations_find_their_other_spellings() {
    let app = TestApp::with(small_library);
    // The library writes "vắc-xin", "Oresol", "kg", "bảo hiểm y tế" and "UBND"; people type
    // them joined, spaced, hyphenated, without marks, in English or abbreviated.
    let vaccine = "health/benh-soi";
    let oresol = "health/tieu-chay";
    let card = "law/the-bhyt";
    for (q, id) in [
        ("vacxin", vaccine),
        ("vắc xin", vaccine),
        ("vac-xin", vaccine),
        ("VACXIN", vaccine),
        ("vaccine", vaccine),
        ("ô-rê-dôn", oresol),
        ("o re don", oresol),
        ("oresol", oresol),
        ("kilogam nua coc", oresol),
        ("ki-lô-gam nửa cốc", oresol),
        ("ki lo gam nua coc", oresol),
        ("bhyt", card),
        ("BHYT cho tre", card),
        ("uy ban nhan dan", card),
    ] {
        let v = api(&app, q).await;
        assert_eq!(ids(&v).first().map(String::as_str), Some(id), "{q}: {v}");
        assert_eq!(hit(&v, id)["match"], "full", "{q}");
        assert_eq!(v["found"], true, "{q}");
    }
}

#[tokio::test]
async fn hits_open_at_the_section_that_matched() {
    let app = TestApp::with(small_library);
    let v = api(&app, "bon phan lua").await;
    let h = hit(&v, "agriculture/trong-lua");
    let url = h["url"].as_str().unwrap();
    assert_eq!(url, "/m/agriculture/trong-lua#bon-phan-cho-lua", "{v}");
    let snippet = h["snippet"].as_str().unwrap();
    assert!(
        snippet.contains("<b>Bón</b>"),
        "the snippet is from that section: {snippet}"
    );
    // The anchor is the heading's id on the material's page.
    let (page, anchor) = url.split_once('#').unwrap();
    let html = app.get(page).await.text();
    assert!(html.contains(&format!("id=\"{anchor}\"")), "{html}");

    // In a long material, the section and its words are found past the stored text's head.
    let v = api(&app, "lo mom long mong").await;
    let h = hit(&v, "agriculture/trau-bo");
    assert_eq!(
        h["url"], "/m/agriculture/trau-bo#benh-lo-mom-long-mong",
        "{v}"
    );
    assert!(
        h["snippet"].as_str().unwrap().contains("<b>móng</b>"),
        "{v}"
    );

    // A match before the first heading opens the page at its top.
    let v = api(&app, "lich thoi vu").await;
    assert_eq!(
        hit(&v, "agriculture/trong-lua")["url"],
        "/m/agriculture/trong-lua"
    );
    // The results page links the same way.
    let page = app.get("/search?q=bon+phan+lua").await.text();
    assert!(
        page.contains("href=\"/m/agriculture/trong-lua#bon-phan-cho-lua\""),
        "{page}"
    );
}

#[tokio::test]
async fn a_common_folded_syllable_typed_with_marks_is_not_a_stopword() {
    // "bo" folds bỏ, bộ, bó and bò together, and is in nearly every material; "bò" (cattle)
    // is in one. A loose full match must not treat "bò" like the near-stopword "bo".
    let app = TestApp::with(|lib| {
        std::fs::remove_dir_all(lib).unwrap();
        let write = |name: &str, title: &str, body: &str| {
            let p = lib.join("agriculture").join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(
                p,
                format!("+++\ntitle = \"{title}\"\ncategory = \"agriculture\"\n+++\n{body}\n"),
            )
            .unwrap();
        };
        write(
            "trau-bo.md",
            "Giữ trâu bò qua mùa rét",
            "Làm chuồng kín gió cho trâu bò, dự trữ rơm cỏ trước mùa rét.",
        );
        for (i, body) in [
            "Đừng bỏ phân bón ngoài mưa.",
            "Bộ đội biên phòng giúp dân làm đường.",
            "Bó rơm phơi khô để dành.",
            "Bỏ hạt giống lép trước khi gieo.",
            "Cả bộ dụng cụ để nơi khô ráo.",
        ]
        .iter()
        .enumerate()
        {
            write(&format!("khac-{i}.md"), &format!("Việc nhà nông {i}"), body);
        }
    });
    for q in ["trâu bò mùa rét", "trau bo mua ret"] {
        let v = api(&app, q).await;
        assert_eq!(hit(&v, "agriculture/trau-bo")["match"], "full", "{q}: {v}");
    }
}

/// Two materials that both hold every word of a teacher's question: one says it in a sentence,
/// the other mentions each word often but in different places.
fn near_and_scattered(lib: &std::path::Path) {
    std::fs::remove_dir_all(lib).unwrap();
    let filler =
        "Chuồng trại phải khô ráo, thoáng mát, được quét dọn hằng ngày, có rãnh thoát nước. ";
    let together = format!(
        "{}\n\nLợn nái sốt cao, bỏ ăn sau khi đẻ: gọi thú y xã ngay.\n\n{}\n",
        filler.repeat(12),
        filler.repeat(12)
    );
    let apart = format!(
        "## Lợn nái\n\nLợn nái cần chuồng rộng. Lợn nái nuôi con cần thêm cám.\n\n{f}\n\n\
         ## Gà\n\nGà bị sốt thì nhốt riêng. Gà sốt cao uống thuốc theo thú y.\n\n{f}\n\n\
         ## Bò\n\nBò bỏ ăn là bò ốm. Bò bỏ ăn hai ngày thì gọi thú y.\n\n{f}\n\n\
         ## Vịt\n\nVịt đẻ nhiều vào mùa xuân. Sau khi đẻ, vịt cần ăn nhiều.\n",
        f = filler.repeat(8)
    );
    for (name, title, body) in [
        ("lon-nai", "Ghi chép của thú y xã", together),
        ("vat-nuoi", "Chăm sóc vật nuôi", apart),
        ("chuong-trai", "Làm chuồng trại", filler.repeat(20)),
        (
            "ao-ca",
            "Đào ao thả cá",
            "Ao sâu hai mét, thả cá giống vào mùa xuân.".to_string(),
        ),
    ] {
        material(lib, &format!("agriculture/{name}.md"), title, &body);
    }
}

#[tokio::test]
async fn a_question_ranks_the_material_that_holds_its_words_together_first() {
    let app = TestApp::with(near_and_scattered);
    for q in [
        "lợn nái sốt cao bỏ ăn sau khi đẻ",
        "lon nai sot cao bo an sau khi de thi phai lam gi",
    ] {
        let v = api(&app, q).await;
        assert_eq!(ids(&v)[0], "agriculture/lon-nai", "{q}: {v}");
    }
}

/// One material about a six-syllable topic, and others that hold each of its syllables
/// somewhere in other words; one material that answers a question without repeating its words.
fn topic_and_question(lib: &std::path::Path) {
    std::fs::remove_dir_all(lib).unwrap();
    let write = |path: &str, title: &str, body: &str| material(lib, path, title, body);
    write(
        "law/bao-luc.md",
        "Bạo lực trong nhà",
        "Phòng chống bạo lực gia đình là việc của cả thôn. Người bị đánh gọi công an xã.",
    );
    // Every syllable of "phong chong bao luc gia dinh", folded, none of them side by side.
    write(
        "health/kham-dinh-ky.md",
        "Khám sức khỏe",
        "Phòng khám xã mở cửa lúc bảy giờ. Thuốc có chống chỉ định thì hỏi y sĩ. \
         Bảo quản thuốc nơi khô. Giá khám thấp. Đi khám định kỳ mỗi năm.",
    );
    write(
        "agriculture/kho-thoc.md",
        "Cất giữ thóc",
        "Kho thóc cần phòng ẩm. Chống chuột bằng lưới. Bao tải kê cao. \
         Lúc trời nồm mở cửa. Gia chủ định ngày phơi lại.",
    );
    write(
        "health/sot.md",
        "Khi trẻ sốt",
        "Trẻ dưới 2 tháng tuổi bị sốt phải đưa đi khám ngay, không tự mua thuốc hạ sốt. \
         Lau mát cho trẻ bằng nước ấm và cho bú nhiều hơn.",
    );
    write(
        "agriculture/vuon.md",
        "Vườn rau",
        "Rau cải gieo từ tháng mười. Vào buổi sáng, cha mẹ dạy con tưới rau bằng nước ấm.",
    );
}

#[tokio::test]
async fn a_six_syllable_topic_is_found_only_where_it_is_said() {
    let app = TestApp::with(topic_and_question);
    for q in [
        "phong chong bao luc gia dinh",
        "phòng chống bạo lực gia đình",
    ] {
        let v = api(&app, q).await;
        assert_eq!(v["found"], true, "{q}: {v}");
        assert_eq!(v["full"], 1, "{q}: {v}");
        assert_eq!(ids(&v)[0], "law/bao-luc", "{q}: {v}");
        assert_eq!(
            hit(&v, "health/kham-dinh-ky")["match"],
            "partial",
            "{q}: {v}"
        );
        assert_eq!(
            hit(&v, "agriculture/kho-thoc")["match"],
            "partial",
            "{q}: {v}"
        );
    }
}

#[tokio::test]
async fn a_pasted_question_is_answered_by_a_passage_that_does_not_repeat_it() {
    let app = TestApp::with(topic_and_question);
    // "từ buổi sáng", "cha mẹ", "cần" are nowhere in the answer (but elsewhere in the library,
    // so each counts as telling); it still answers.
    let q = "Trẻ dưới 2 tháng tuổi bị sốt từ buổi sáng thì cha mẹ có cần đưa đi khám ngay không?";
    let v = api(&app, q).await;
    assert_eq!(v["found"], true, "{v}");
    assert_eq!(ids(&v)[0], "health/sot", "{v}");
    assert_eq!(hit(&v, "health/sot")["match"], "full", "{v}");
    // A question about what the library does not hold stays unanswered.
    let v = api(
        &app,
        "Cách nuôi ong lấy mật cho năng suất cao là như thế nào?",
    )
    .await;
    assert_eq!(v["found"], false, "{v}");
}

/// Bamboo (tre, written without marks) and children (trẻ, which folds the same), and a
/// material that has both measles (sởi) and "soi" (to candle eggs).
fn bamboo_and_children(lib: &std::path::Path) {
    std::fs::remove_dir_all(lib).unwrap();
    material(
        lib,
        "agriculture/cay-tre.md",
        "Trồng tre quanh vườn",
        "Cây tre mọc nhanh, giữ đất bờ ao. Bánh chưng gói bằng lá dong, có nơi gói bằng lá \
         của cây tre.\n",
    );
    material(
        lib,
        "health/tre-nho.md",
        "Chăm sóc trẻ nhỏ",
        "Trẻ nhỏ thích xem gói bánh chưng. Cho trẻ phụ gói bánh, trẻ vui. Lá dong rửa sạch \
         rồi mới gói. Trẻ uống nhiều nước khi trời nóng; trẻ ốm thì đưa đi khám.\n",
    );
    material(
        lib,
        "health/benh-soi.md",
        "Bệnh sởi",
        "Bệnh sởi lây qua đường hô hấp. Trẻ bị sởi sốt cao và phát ban.\n",
    );
    material(
        lib,
        "agriculture/ap-trung.md",
        "Cho gà ấp trứng",
        "Soi trứng sau bảy ngày ấp: trứng không phôi thì bỏ. Gà mái bị bệnh không cho ấp. \
         Bệnh của gà con hay gặp khi ổ ấp ẩm. Soi lại trứng lúc mười tám ngày.\n",
    );
}

#[tokio::test]
async fn a_syllable_left_without_marks_among_marked_ones_is_read_as_typed() {
    let app = TestApp::with(bamboo_and_children);
    // "tre" without marks beside marked syllables is bamboo: the material that says "trẻ"
    // again and again comes after it.
    for q in [
        "Lá tre có dùng để gói bánh chưng được không?",
        "gói bánh chưng bằng lá tre thế nào",
    ] {
        let v = api(&app, q).await;
        assert_eq!(ids(&v)[0], "agriculture/cay-tre", "{q}: {v}");
    }
    // Typed wholly without marks, "tre" may be either.
    let v = api(&app, "tre uong nuoc").await;
    assert_eq!(ids(&v)[0], "health/tre-nho", "{v}");
    // A mark left off ("bệnh soi" for "bệnh sởi"): the library also says "soi" (to candle
    // eggs), but only measles holds the pair, so it stays the full match, listed first.
    let v = api(&app, "bệnh soi").await;
    assert_eq!(ids(&v)[0], "health/benh-soi", "{v}");
    assert_eq!(hit(&v, "health/benh-soi")["match"], "full", "{v}");
}
