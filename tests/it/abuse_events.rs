//! Events cannot fill the disk or the memory: Keycloak's event settings per realm (off by
//! default), details capped in size, and clearing.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{basic, spawn_app, TestApp};

async fn team(app: &TestApp) {
    app.create_realm("team").await;
    app.create_user("team", "dev", "pw").await;
    app.create_docker_client("team", "registry").await;
}

async fn docker_token(app: &TestApp, query: &str, auth: Option<&str>) -> u16 {
    let mut request = app
        .client
        .get(app.url(&format!("/realms/team/protocol/docker-v2/auth?{query}")));
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn login_events(app: &TestApp, realm: &str) -> Vec<Value> {
    let response = app
        .admin(Method::GET, &format!("/{realm}/events?max=1000"), None)
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn admin_events(app: &TestApp, realm: &str) -> Vec<Value> {
    let response = app
        .admin(
            Method::GET,
            &format!("/{realm}/admin-events?max=1000"),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn put_config(app: &TestApp, realm: &str, config: Value) -> u16 {
    app.admin(
        Method::PUT,
        &format!("/{realm}/events/config"),
        Some(config),
    )
    .await
    .status()
    .as_u16()
}

async fn stored(app: &TestApp, sql: &str) -> i64 {
    let pool = app.raw_db().await;
    sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
}

#[tokio::test]
async fn a_new_realm_stores_no_events_as_in_keycloak() {
    let app = spawn_app().await;
    team(&app).await;
    let config: Value = app
        .admin(Method::GET, "/team/events/config", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["eventsEnabled"], false, "{config}");
    assert_eq!(config["adminEventsEnabled"], false);
    assert_eq!(config["adminEventsDetailsEnabled"], false);
    assert_eq!(config["eventsListeners"], json!(["jboss-logging"]));
    assert!(config["enabledEventTypes"]
        .as_array()
        .unwrap()
        .contains(&json!("LOGIN_ERROR")));

    docker_token(&app, "service=registry", Some(&basic("dev", "pw"))).await;
    docker_token(&app, "service=registry", Some(&basic("dev", "nope"))).await;
    assert!(login_events(&app, "team").await.is_empty());
    assert!(admin_events(&app, "team").await.is_empty());
}

#[tokio::test]
async fn events_config_is_read_and_written_like_keycloak() {
    let app = spawn_app().await;
    team(&app).await;
    let status = put_config(
        &app,
        "team",
        json!({"eventsEnabled": true, "eventsExpiration": 3600,
               "enabledEventTypes": ["LOGIN"], "adminEventsEnabled": true}),
    )
    .await;
    assert_eq!(status, 204);
    let realm: Value = app
        .admin(Method::GET, "/team", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(realm["eventsEnabled"], true);
    assert_eq!(realm["eventsExpiration"], 3600);
    assert_eq!(realm["enabledEventTypes"], json!(["LOGIN"]));
    assert_eq!(realm["adminEventsEnabled"], true);
    assert_eq!(realm["adminEventsDetailsEnabled"], false);

    docker_token(&app, "service=registry", Some(&basic("dev", "pw"))).await;
    docker_token(&app, "service=registry", Some(&basic("dev", "nope"))).await;
    let events = login_events(&app, "team").await;
    assert_eq!(events.len(), 1, "only LOGIN is kept: {events:?}");
    assert_eq!(events[0]["type"], "LOGIN");

    let recorded = admin_events(&app, "team").await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["resourcePath"], "events/config");
    assert_eq!(
        recorded[0]["representation"],
        Value::Null,
        "details are off"
    );

    let export: Value = app
        .admin(Method::POST, "/team/partial-export", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(export["eventsEnabled"], true, "exported");
    assert_eq!(export["enabledEventTypes"], json!(["LOGIN"]));
    let mut import = export.clone();
    import["realm"] = json!("copy");
    import.as_object_mut().unwrap().remove("id");
    let created = app.admin(Method::POST, "", Some(import)).await;
    assert_eq!(created.status(), 201);
    let copy: Value = app
        .admin(Method::GET, "/copy", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(copy["eventsEnabled"], true, "imported");
    assert_eq!(copy["eventsExpiration"], 3600);

    // Keycloak's PUT: an absent eventsEnabled means off.
    assert_eq!(put_config(&app, "team", json!({})).await, 204);
    let config: Value = app
        .admin(Method::GET, "/team/events/config", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["eventsEnabled"], false);
    assert_eq!(config["eventsExpiration"], 0);
    assert_eq!(config["enabledEventTypes"], json!(["LOGIN"]));
    assert_eq!(config["adminEventsEnabled"], true, "absent: unchanged");

    let bad = json!({"eventsEnabled": true, "enabledEventTypes": ["login; DROP"]});
    assert_eq!(put_config(&app, "team", bad).await, 400);
    let bad = json!({"eventsEnabled": true, "eventsExpiration": -1});
    assert_eq!(put_config(&app, "team", bad).await, 400);
}

#[tokio::test]
async fn admin_events_keep_the_representation_only_with_details_on() {
    let app = spawn_app().await;
    team(&app).await;
    let on = json!({"adminEventsEnabled": true, "adminEventsDetailsEnabled": true});
    assert_eq!(put_config(&app, "team", on).await, 204);
    app.create_user("team", "withdetails", "pw").await;
    let off = json!({"adminEventsEnabled": true, "adminEventsDetailsEnabled": false});
    assert_eq!(put_config(&app, "team", off).await, 204);
    app.create_user("team", "withoutdetails", "pw").await;

    let events = admin_events(&app, "team").await;
    let user_events: Vec<&Value> = events
        .iter()
        .filter(|e| e["resourceType"] == "USER")
        .collect();
    assert_eq!(user_events.len(), 2, "{events:?}");
    assert_eq!(user_events[0]["representation"], Value::Null);
    assert!(user_events[1]["representation"]
        .as_str()
        .unwrap()
        .contains("withdetails"));

    assert_eq!(
        put_config(&app, "team", json!({"adminEventsEnabled": false})).await,
        204
    );
    let before = admin_events(&app, "team").await.len();
    app.create_user("team", "unrecorded", "pw").await;
    let after = admin_events(&app, "team").await;
    assert_eq!(after.len(), before, "switching off is the last event kept");
    assert_eq!(after[0]["resourcePath"], "events/config");
}

#[tokio::test]
async fn events_and_admin_events_can_be_cleared() {
    let app = spawn_app().await;
    team(&app).await;
    let on = json!({"eventsEnabled": true, "adminEventsEnabled": true});
    assert_eq!(put_config(&app, "team", on).await, 204);
    docker_token(&app, "service=registry", Some(&basic("dev", "pw"))).await;
    assert_eq!(login_events(&app, "team").await.len(), 1);
    assert!(!admin_events(&app, "team").await.is_empty());

    let cleared = app.admin(Method::DELETE, "/team/events", None).await;
    assert_eq!(cleared.status(), 204);
    assert!(login_events(&app, "team").await.is_empty());
    let cleared = app.admin(Method::DELETE, "/team/admin-events", None).await;
    assert_eq!(cleared.status(), 204);
    assert!(admin_events(&app, "team").await.is_empty());
}

/// The attack: anonymous docker token requests for an unknown service, each with a scope
/// string as large as the endpoint takes. With events off (the default) nothing is stored;
/// with events on, every stored detail is cut to 256 characters.
#[tokio::test]
async fn huge_anonymous_scopes_are_stored_truncated_or_not_at_all() {
    let app = spawn_app().await;
    team(&app).await;
    // The largest scopes the endpoint accepts (32 of them, each naming a 255-byte
    // repository), and a body far over its limit that it refuses unread.
    let scopes: Vec<String> = (0..32)
        .map(|i| format!("repository:{}{i:02}:pull,push", "a".repeat(253)))
        .collect();
    let oversized = format!("repository:{}:pull", "a".repeat(60_000));
    let attack = |app: &TestApp| {
        let scopes = scopes.clone();
        let oversized = oversized.clone();
        let app_client = app.client.clone();
        let url = app.url("/realms/team/protocol/docker-v2/auth");
        async move {
            for _ in 0..20 {
                let mut form = vec![
                    ("grant_type", "password".to_owned()),
                    ("service", "unknown".to_owned()),
                    ("client_id", "x".to_owned()),
                ];
                form.extend(scopes.iter().map(|s| ("scope", s.clone())));
                app_client.post(&url).form(&form).send().await.unwrap();
                app_client
                    .post(&url)
                    .form(&[("service", "unknown"), ("scope", oversized.as_str())])
                    .send()
                    .await
                    .unwrap();
                let query: Vec<String> =
                    scopes[..16].iter().map(|s| format!("scope={s}")).collect();
                let _ = app_client
                    .get(format!("{url}?service=unknown&{}", query.join("&")))
                    .send()
                    .await
                    .unwrap();
            }
        }
    };
    attack(&app).await;
    login_events(&app, "team").await;
    assert_eq!(
        stored(&app, "SELECT COUNT(*) FROM login_event").await,
        0,
        "events are off by default"
    );

    assert_eq!(
        put_config(&app, "team", json!({"eventsEnabled": true})).await,
        204
    );
    attack(&app).await;
    let events = login_events(&app, "team").await;
    assert!(!events.is_empty());
    assert!(events.len() <= 60, "one event per request at most");
    let longest_detail = stored(
        &app,
        if app.db_url.starts_with("postgres") {
            "SELECT CAST(COALESCE(MAX(length(j.value)), 0) AS BIGINT)
             FROM login_event, jsonb_each_text(CAST(details AS JSONB)) j"
        } else {
            "SELECT COALESCE(MAX(length(j.value)), 0) FROM login_event, json_each(details) j"
        },
    )
    .await;
    assert!(
        longest_detail <= 256,
        "a detail kept {longest_detail} chars"
    );
    let largest_event = stored(
        &app,
        "SELECT CAST(MAX(length(details)) AS BIGINT) FROM login_event",
    )
    .await;
    assert!(largest_event <= 2048, "an event kept {largest_event} bytes");
}
