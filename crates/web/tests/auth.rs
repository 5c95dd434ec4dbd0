//! Staff authentication end to end: setup link, sign-in, rate limiting,
//! sign-out, CSRF, admin-only pages, API keys, language and security headers.

mod common;

use common::{TestApp, spawn_app};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use studylink_model::{NewUser, Role};
use studylink_web::auth::{create_api_key, hash_password, issue_setup_url};

const PASSWORD: &str = "correct horse battery staple";

/// Form posts without reqwest's optional `form` feature.
trait SendForm {
    fn form(self, pairs: &[(&str, &str)]) -> Self;
}

impl SendForm for reqwest::RequestBuilder {
    fn form(self, pairs: &[(&str, &str)]) -> Self {
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(pairs).unwrap())
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first hidden `csrf` field in a page.
fn csrf_field(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let i = html.find(marker).expect("page has a csrf field") + marker.len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

async fn add_user(app: &TestApp, email: &str, role: Role) {
    app.store
        .create_user(&NewUser {
            account_id: app.account,
            email: email.into(),
            password_hash: hash_password(PASSWORD).unwrap(),
            role,
        })
        .await
        .unwrap();
}

async fn post_login(app: &TestApp, c: &reqwest::Client, email: &str, password: &str, next: &str) -> reqwest::Response {
    let page = c.get(format!("{}/login", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_field(&page);
    c.post(format!("{}/login", app.base))
        .form(&[("email", email), ("password", password), ("csrf", &csrf), ("next", next)])
        .send()
        .await
        .unwrap()
}

/// A signed-in client and the session's CSRF token.
async fn signed_in(app: &TestApp, email: &str, role: Role) -> (reqwest::Client, String) {
    add_user(app, email, role).await;
    let c = client();
    let resp = post_login(app, &c, email, PASSWORD, "/").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let home = c.get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    (c, csrf_field(&home))
}

#[tokio::test]
async fn setup_link_works_once() {
    let app = spawn_app().await;
    let url = issue_setup_url(app.store.as_ref(), &app.base).await.unwrap().expect("no users yet");
    assert!(url.starts_with(&format!("{}/setup/", app.base)));

    let c = client();
    let page = c.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = csrf_field(&page.text().await.unwrap());

    // A too-short password is refused without using up the token.
    let resp = c
        .post(&url)
        .form(&[("email", "admin@clinic.example"), ("password", "short"), ("confirm", "short"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("at least 12 characters"));

    let form = [("email", " Admin@Clinic.example "), ("password", PASSWORD), ("confirm", PASSWORD), ("csrf", &csrf)];
    let resp = c.post(&url).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/");
    let home = c.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let home = home.text().await.unwrap();
    assert!(home.contains("admin@clinic.example"), "signed in as the new admin");
    assert!(home.contains("/admin/users"), "admins see the Users link");

    let user = app.store.user_by_email("admin@clinic.example").await.unwrap().unwrap();
    assert_eq!(user.role, Role::Admin);
    assert!(issue_setup_url(app.store.as_ref(), &app.base).await.unwrap().is_none());

    // The link is spent.
    let other = client();
    let page = other.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::GONE);
    assert!(page.text().await.unwrap().contains("studylink user add"));
}

#[tokio::test]
async fn expired_or_unknown_setup_token_is_refused() {
    let app = spawn_app().await;
    issue_setup_url(app.store.as_ref(), &app.base).await.unwrap().unwrap();
    let c = client();
    let url = format!("{}/setup/not-the-token", app.base);
    let csrf = csrf_field(&c.get(&url).send().await.unwrap().text().await.unwrap());
    let resp = c
        .post(&url)
        .form(&[("email", "a@clinic.example"), ("password", PASSWORD), ("confirm", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::GONE);
    assert_eq!(app.store.count_users().await.unwrap(), 0);
}

#[tokio::test]
async fn login_success_and_generic_failure() {
    let app = spawn_app().await;
    add_user(&app, "ana@clinic.example", Role::Staff).await;
    let c = client();

    let wrong = post_login(&app, &c, "ana@clinic.example", "wrong password!", "/").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.unwrap();
    let unknown = post_login(&app, &c, "nobody@clinic.example", PASSWORD, "/").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.text().await.unwrap();
    assert!(wrong.contains("Incorrect email or password."));
    assert!(unknown.contains("Incorrect email or password."));
    assert!(!wrong.contains(PASSWORD) && !wrong.contains("wrong password!"));

    let ok = post_login(&app, &c, "ANA@clinic.example", PASSWORD, "/upload").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&ok), "/upload");
    let cookie = ok.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(cookie.starts_with("studylink_session="));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"));
    assert!(cookie.contains("Max-Age=43200"));
    let upload = c.get(format!("{}/upload", app.base)).send().await.unwrap();
    assert_eq!(upload.status(), StatusCode::OK);

    let events = app.store.audit_events(None, 50).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.event.action.as_str()).collect();
    assert!(actions.contains(&"user.login"));
    assert_eq!(actions.iter().filter(|a| **a == "user.login_failed").count(), 2);
    assert!(events.iter().all(|e| !e.event.detail.contains(PASSWORD) && !e.event.detail.contains("wrong password")));
}

#[tokio::test]
async fn pages_redirect_to_login_and_next_is_same_site_only() {
    let app = spawn_app().await;
    add_user(&app, "ana@clinic.example", Role::Staff).await;
    let c = client();
    let resp = c.get(format!("{}/upload", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/login?next=%2Fupload");

    let resp = post_login(&app, &c, "ana@clinic.example", PASSWORD, "//evil.example/x").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/");

    // Signed in, /login goes straight on.
    let resp = c.get(format!("{}/login?next=/upload", app.base)).send().await.unwrap();
    assert_eq!(location(&resp), "/upload");
}

#[tokio::test]
async fn sixth_attempt_is_rate_limited_even_with_the_right_password() {
    let app = spawn_app().await;
    add_user(&app, "ana@clinic.example", Role::Staff).await;
    let c = client();
    for _ in 0..5 {
        let resp = post_login(&app, &c, "ana@clinic.example", "not the password", "/").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = post_login(&app, &c, "ana@clinic.example", PASSWORD, "/").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.text().await.unwrap().contains("Try again in 15 minutes"));
    // Nothing was signed in.
    let resp = c.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn logout_invalidates_the_session() {
    let app = spawn_app().await;
    add_user(&app, "ana@clinic.example", Role::Staff).await;
    let c = client();
    let resp = post_login(&app, &c, "ana@clinic.example", PASSWORD, "/").await;
    let cookie = resp.headers().get(SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let home = c.get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_field(&home);

    let resp = c.post(format!("{}/logout", app.base)).form(&[("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/login");
    assert!(resp.headers().get(SET_COOKIE).unwrap().to_str().unwrap().contains("Max-Age=0"));

    // The old cookie, replayed by someone who kept it, is worthless.
    let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = replay.get(format!("{}/", app.base)).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(location(&resp).starts_with("/login"));
    let actions: Vec<String> =
        app.store.audit_events(None, 50).await.unwrap().into_iter().map(|e| e.event.action).collect();
    assert!(actions.contains(&"user.logout".to_string()));
}

#[tokio::test]
async fn unsafe_requests_need_the_csrf_token() {
    let app = spawn_app().await;
    let (c, csrf) = signed_in(&app, "admin@clinic.example", Role::Admin).await;
    let url = format!("{}/admin/users", app.base);

    let resp = c.post(&url).form(&[("email", "x@clinic.example"), ("role", "staff")]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = c.post(&url).form(&[("email", "x@clinic.example"), ("role", "staff"), ("csrf", "forged")]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Right token, but the browser says the form came from another site.
    let resp = c
        .post(&url)
        .header("origin", "https://evil.example")
        .form(&[("email", "x@clinic.example"), ("role", "staff"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(app.store.user_by_email("x@clinic.example").await.unwrap().is_none());

    // JSON endpoints take the token in a header.
    let up = format!("{}/upload", app.base);
    let resp = c.post(&up).body("x").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = c.post(&up).header("x-csrf-token", "forged").body("x").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // The login form has its own pre-session token.
    let fresh = client();
    let resp = fresh
        .post(format!("{}/login", app.base))
        .form(&[("email", "admin@clinic.example"), ("password", PASSWORD), ("csrf", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // With the token it works.
    let resp = c.post(&url).form(&[("email", "x@clinic.example"), ("role", "staff"), ("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn admin_pages_are_for_admins() {
    let app = spawn_app().await;
    let (staff, staff_csrf) = signed_in(&app, "ana@clinic.example", Role::Staff).await;
    for path in ["/admin/users", "/admin/api-keys"] {
        let resp = staff.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let resp = staff
        .post(format!("{}/admin/users", app.base))
        .form(&[("email", "x@clinic.example"), ("role", "admin"), ("csrf", &staff_csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let home = staff.get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("/admin/users"), "staff don't see the Users link");

    let (admin, csrf) = signed_in(&app, "boss@clinic.example", Role::Admin).await;
    let page = admin.get(format!("{}/admin/users", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("ana@clinic.example"));

    // Adding a user shows the generated password once; it works.
    let resp = admin
        .post(format!("{}/admin/users", app.base))
        .form(&[("email", "New@Clinic.example"), ("role", "staff"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers().get("cache-control").unwrap(), "no-store");
    let html = resp.text().await.unwrap();
    let i = html.find("class=\"secret\"><code>").unwrap() + "class=\"secret\"><code>".len();
    let password = &html[i..i + html[i..].find('<').unwrap()];
    assert_eq!(password.len(), 23);
    let again = admin.get(format!("{}/admin/users", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(!again.contains(password));
    let c = client();
    let resp = post_login(&app, &c, "new@clinic.example", password, "/").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);

    // Duplicate email: a clear error, no second user.
    let resp = admin
        .post(format!("{}/admin/users", app.base))
        .form(&[("email", "new@clinic.example"), ("role", "staff"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert!(app.store.audit_events(None, 50).await.unwrap().iter().any(|e| e.event.action == "user.created"));
}

#[tokio::test]
async fn api_keys_authenticate_until_revoked() {
    let app = spawn_app().await;
    let me = format!("{}/api/v1/me", app.base);
    let http = reqwest::Client::new();

    let resp = http.get(&me).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let key = create_api_key(app.store.as_ref(), app.account, "Reading room PACS").await.unwrap();
    assert!(key.starts_with("slk_"));
    let resp = http.get(&me).bearer_auth(&key).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["actor"]["kind"], "api_key");
    assert_eq!(body["label"], "Reading room PACS");
    assert_eq!(body["account_id"], app.account.0);

    for bad in ["slk_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "nonsense", ""] {
        let resp = http.get(&me).bearer_auth(bad).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{bad}");
    }

    // Through the admin page: create, use, revoke.
    let (admin, csrf) = signed_in(&app, "boss@clinic.example", Role::Admin).await;
    let resp = admin
        .post(format!("{}/admin/api-keys", app.base))
        .form(&[("name", "Script"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    let i = html.find("<code>slk_").unwrap() + "<code>".len();
    let key2 = &html[i..i + html[i..].find('<').unwrap()];
    assert_eq!(key2.len(), 56, "{key2}");
    let resp = http.get(&me).bearer_auth(key2).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let keys = app.store.list_api_keys(app.account).await.unwrap();
    let id = keys.iter().find(|k| k.name == "Script").unwrap().id;
    let resp = admin
        .post(format!("{}/admin/api-keys/{id}/revoke", app.base))
        .form(&[("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = http.get(&me).bearer_auth(key2).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // The other key is unaffected.
    assert_eq!(http.get(&me).bearer_auth(&key).send().await.unwrap().status(), StatusCode::OK);

    // A session is a principal too.
    let body: serde_json::Value = admin.get(&me).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["actor"]["kind"], "user");
    assert_eq!(body["label"], "boss@clinic.example");
    assert_eq!(body["role"], "admin");
}

#[tokio::test]
async fn spanish_and_language_switch() {
    let app = spawn_app().await;
    let c = client();
    let html = c
        .get(format!("{}/login", app.base))
        .header("accept-language", "es-AR,es;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"es\">"));
    assert!(html.contains("Iniciar sesión"));

    let resp = c.get(format!("{}/lang?to=es&next=%2Flogin", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/login");
    let html = c.get(format!("{}/login", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Iniciar sesión"), "the cookie beats the (absent) header");
    let resp = c.get(format!("{}/lang?to=en&next=https://evil.example", app.base)).send().await.unwrap();
    assert_eq!(location(&resp), "/");
}

#[tokio::test]
async fn html_pages_carry_security_headers() {
    let app = spawn_app().await;
    let resp = client().get(format!("{}/login", app.base)).send().await.unwrap();
    let h = resp.headers();
    assert_eq!(
        h.get("content-security-policy").unwrap(),
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    );
    assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(h.get("referrer-policy").unwrap(), "same-origin");
    let csrf_cookie = h.get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(csrf_cookie.starts_with("studylink_csrf=") && csrf_cookie.contains("HttpOnly"));
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline scripts");

    let css = client().get(format!("{}/static/app.css", app.base)).send().await.unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/css"));
    assert!(css.headers().get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
    let missing = client().get(format!("{}/static/nope.js", app.base)).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn one_persons_typos_do_not_lock_out_the_front_desk_but_spraying_is_stopped() {
    let app = spawn_app().await;
    add_user(&app, "ana@clinic.example", Role::Staff).await;
    add_user(&app, "luis@clinic.example", Role::Staff).await;
    let c = client();
    for _ in 0..5 {
        post_login(&app, &c, "ana@clinic.example", "typo typo typo", "/").await;
    }
    // Same address (everyone here is 127.0.0.1), another account: still fine.
    let resp = post_login(&app, &c, "luis@clinic.example", PASSWORD, "/").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "a colleague's typos locked Luis out");
    // Guessing across many accounts from one address hits the address limit.
    let sprayer = client();
    for i in 0..20 {
        post_login(&app, &sprayer, &format!("guess{i}@clinic.example"), "password123456", "/").await;
    }
    let resp = post_login(&app, &sprayer, "luis@clinic.example", PASSWORD, "/").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
}
