//! A teacher makes a lesson by clicks and key presses only: log in, create a lesson, type a
//! search into "Tìm tài liệu để thêm" and press Enter (it must search, not save), add three
//! materials from that one search, publish, then open `/l/CODE` typed in capitals. Each
//! step that goes wrong is noted and worked around the way a teacher would, so one run names
//! every fault on the way.

use fantoccini::Locator;
use fantoccini::elements::Element;
use fantoccini::key::Key;

use crate::browser::{Browser, View};
use crate::http::Plain;
use crate::site::{PASSWORD, Site, TEACHER};

/// The lesson's title.
const TITLE: &str = "Phòng rét cho lúa và trâu";
/// What the teacher searches for (finds more than three materials in the fixtures).
const SEARCH: &str = "lúa";
/// Materials added.
const ADD: usize = 3;

/// The control a visible label names (as a person finds it).
async fn labelled(b: &Browser, label: &str) -> Element {
    let xpath = format!("//label[normalize-space()='{label}']");
    let Ok(l) = b.client().find(Locator::XPath(&xpath)).await else {
        panic!(
            "no label {label:?} on {}: {}",
            b.path().await,
            b.text().await
        )
    };
    let id = l
        .attr("for")
        .await
        .unwrap()
        .expect("the label names its control");
    b.client().find(Locator::Id(&id)).await.unwrap()
}

/// The buttons that read `text`.
async fn buttons(b: &Browser, text: &str) -> Vec<Element> {
    let xpath = format!("//button[normalize-space()='{text}']");
    b.client().find_all(Locator::XPath(&xpath)).await.unwrap()
}

/// Clicks the first button that reads `text` and waits for the answer.
async fn press(b: &Browser, text: &str) {
    let Some(button) = buttons(b, text).await.into_iter().next() else {
        panic!("no button {text:?} on {}", b.path().await)
    };
    b.mark().await;
    button.click().await.unwrap();
    b.wait_new_page().await;
}

/// Types `query` into the search field and presses Enter; returns where that led.
async fn search_by_enter(b: &Browser, query: &str) -> String {
    let field = labelled(b, "Tìm tài liệu để thêm").await;
    field.clear().await.unwrap();
    field.click().await.unwrap();
    b.mark().await;
    field
        .send_keys(&format!("{query}{}", char::from(Key::Enter)))
        .await
        .unwrap();
    b.wait_new_page().await;
    b.path().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_builds_and_publishes_a_lesson_by_keyboard_and_mouse() {
    let site = Site::start().await;
    let Some(b) = Browser::start(&site, View::PHONE).await else {
        return;
    };
    let mut faults: Vec<String> = Vec::new();
    b.login(TEACHER, PASSWORD).await;

    if !b.path().await.starts_with("/admin/lessons") {
        let link = b.client().find(Locator::LinkText("Bài học")).await.unwrap();
        link.click().await.unwrap();
        b.wait_until(
            "return location.pathname === '/admin/lessons';",
            "the lessons page",
        )
        .await;
    }
    labelled(&b, "Tên bài học")
        .await
        .send_keys(TITLE)
        .await
        .unwrap();
    press(&b, "Tạo bài học").await;
    let editor = b.path().await;
    let code = editor
        .strip_prefix("/admin/lessons/")
        .unwrap_or_else(|| panic!("creating a lesson led to {editor}"))
        .split('?')
        .next()
        .unwrap()
        .to_string();

    // Enter in the search field, on an empty lesson.
    let led_to = search_by_enter(&b, SEARCH).await;
    let mut offered = buttons(&b, "Thêm vào bài").await;
    if offered.is_empty() {
        faults.push(format!(
            "typing {SEARCH:?} into \"Tìm tài liệu để thêm\" and pressing Enter did not search: \
             it led to {led_to}, which offers no \"Thêm vào bài\" button"
        ));
        press_search_button(&b, SEARCH).await;
        offered = buttons(&b, "Thêm vào bài").await;
    }
    assert!(
        offered.len() >= ADD,
        "searching {SEARCH:?} offers {} materials, fewer than {ADD}: {}",
        offered.len(),
        b.text().await
    );

    // Three materials from that one search.
    let mut added: Vec<String> = Vec::new();
    for n in 1..=ADD {
        let mut choice = None;
        for button in buttons(&b, "Thêm vào bài").await {
            let id = button.attr("value").await.unwrap().unwrap_or_default();
            if !added.contains(&id) {
                choice = Some((button, id));
                break;
            }
        }
        let Some((button, id)) = choice else {
            panic!(
                "no material left to add after {added:?}: {}",
                b.text().await
            );
        };
        b.mark().await;
        button.click().await.unwrap();
        b.wait_new_page().await;
        added.push(id);
        if n < ADD && buttons(&b, "Thêm vào bài").await.is_empty() {
            faults.push(format!(
                "after adding material {n} the search results are gone ({}): the teacher must \
                 search again to add the next one",
                b.path().await
            ));
            // A teacher searches again, by Enter as before, now that the lesson has items.
            let led_to = search_by_enter(&b, SEARCH).await;
            if buttons(&b, "Thêm vào bài").await.is_empty() {
                faults.push(format!(
                    "with {n} material(s) in the lesson, Enter in the search field did not \
                     search: it led to {led_to}"
                ));
                press_search_button(&b, SEARCH).await;
            }
        }
    }

    press(&b, "Lưu và đăng").await;
    let text = b.text().await;
    assert!(
        text.contains("Đã đăng"),
        "\"Lưu và đăng\" did not publish; the page says:\n{text}"
    );

    // What the lesson holds, by the API's titles of the materials added.
    let titles = titles_of(&site, &added).await;
    for (shown, path) in [
        (code.clone(), "as made"),
        (code.to_uppercase(), "in capitals"),
    ] {
        b.goto(&format!("/l/{shown}")).await;
        let status = b.status().await;
        let text = b.text().await;
        let missing: Vec<&String> = titles
            .iter()
            .filter(|t| !text.contains(t.as_str()))
            .collect();
        if status != 200 || !text.contains(TITLE) || !missing.is_empty() {
            faults.push(format!(
                "/l/{shown} (the code {path}) answered {status}, lesson title shown: {}, \
                 materials missing: {missing:?}; the page says: {}",
                text.contains(TITLE),
                text.chars()
                    .take(200)
                    .collect::<String>()
                    .replace('\n', " ")
            ));
        }
    }
    b.close().await;
    assert!(
        faults.is_empty(),
        "the lesson editor journey went wrong {} time(s):\n{}",
        faults.len(),
        faults.join("\n")
    );
}

/// The fallback: types the query and clicks the "Tìm" button next to the field.
async fn press_search_button(b: &Browser, query: &str) {
    let field = labelled(b, "Tìm tài liệu để thêm").await;
    field.clear().await.unwrap();
    field.send_keys(query).await.unwrap();
    let find = b
        .client()
        .find(Locator::XPath(
            "//label[normalize-space()='Tìm tài liệu để thêm']/following::button[normalize-space()='Tìm'][1]",
        ))
        .await
        .unwrap();
    b.mark().await;
    find.click().await.unwrap();
    b.wait_new_page().await;
}

/// The titles of materials `ids` (from `add:ID` button values), from `/api/materials`.
async fn titles_of(site: &Site, values: &[String]) -> Vec<String> {
    let r = Plain::new().get(&site.url("/api/materials"), None).await;
    let all: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    values
        .iter()
        .map(|v| {
            let id = v.strip_prefix("add:").unwrap_or(v);
            all.as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == id)
                .and_then(|m| m["title"].as_str())
                .unwrap_or_else(|| panic!("no material {id} in /api/materials"))
                .to_string()
        })
        .collect()
}
