//! Calls reach the numbers: a real Kamailio (started by scripts/sip.sh) asks the app's SIP door
//! for every decision, and SIPp plays the carrier, the devices and the targets, on 127.0.0.1.
//! `make test` runs these on SQLite and on PostgreSQL (they need Kamailio and SIPp:
//! scripts/install-tools.sh sip).

use crate::helpers::*;
use crate::sip::{self, Kamailio, SipPorts};
use kros_numbers::domain::Mode;
use kros_numbers::service::calls::CallSettings;
use kros_numbers::service::Context;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// An app with a Kamailio in front of its SIP door, and an organization.
struct Edge {
    app: TestApp,
    org: Org,
    kamailio: Kamailio,
}

impl Edge {
    async fn start() -> Edge {
        let ports = SipPorts::pick();
        let app = TestApp::spawn_with(options(&ports)).await;
        let kamailio = Kamailio::start(ports, &app.sip_door, SIP_DOOR_SECRET, SIP_DOMAIN);
        let org = app.org("Acme").await;
        Edge { app, org, kamailio }
    }

    fn ports(&self) -> SipPorts {
        self.kamailio.ports
    }

    /// Buys `e164` (live), attached to `endpoint` if given, then applies `settings` (a PATCH
    /// body); returns (id, SIP user name, password).
    async fn number(&self, e164: &str, endpoint: Option<&str>, settings: Value) -> (String, String, String) {
        let n = self.app.buy_sip_number(&self.org.live_key, Mode::Live, e164, endpoint, settings).await;
        (n.id, n.username, n.password)
    }

    async fn endpoint(&self, targets: &[String], failover_timeout_secs: i64) -> String {
        let body = json!({"name": "PBX", "targets": targets, "failover_timeout_secs": failover_timeout_secs});
        let res = self.app.call_json(Method::POST, "/v1/endpoints", &self.org.live_key, body).await;
        assert_eq!(res.status(), 201);
        body_json(res).await["id"].as_str().unwrap().to_string()
    }

    async fn patch(&self, id: &str, body: Value) {
        let res = self.app.call_json(Method::PATCH, &format!("/v1/phone-numbers/{id}"), &self.org.live_key, body).await;
        assert_eq!(res.status(), 200);
    }

    /// A live carrier's call to `number` expected to end with `code` (200: answered, hung up).
    async fn call_in(&self, number: &str, code: u16) -> sip::Outcome {
        self.call_in_from(self.ports().carrier, number, code).await
    }

    /// The same from the trunk at `port` (the live carrier's or the test trunk's).
    async fn call_in_from(&self, port: u16, number: &str, code: u16) -> sip::Outcome {
        let scenario = if code == 200 { sip::carrier_call_answered() } else { sip::carrier_call_refused(code) };
        let outcome = sip::run(&scenario, port, self.ports().sip, number, None).await;
        assert!(outcome.passed, "a call to {number} should end {code}: {}\n{}", outcome.errors, self.kamailio.log());
        outcome
    }

    /// A device registering as `number` from `port` with these credentials, answered `code`.
    async fn register(&self, port: u16, number: &str, username: &str, password: &str, code: u16) -> sip::Outcome {
        let fields = format!("{number};{};", sip::credentials(username, password));
        let scenario = sip::register(SIP_DOMAIN, code);
        let outcome = sip::run(&scenario, port, self.ports().sip, number, Some(&fields)).await;
        assert!(outcome.passed, "REGISTER as {number} should be {code}: {}\n{}", outcome.errors, self.kamailio.log());
        outcome
    }

    /// A device presenting `caller` calling `callee` out, expected to end with `code`.
    async fn call_out(&self, caller: &str, username: &str, password: &str, callee: &str, code: u16) {
        let fields = format!("{caller};{};", sip::credentials(username, password));
        let port = sip::free_port();
        let outcome = sip::run(&sip::device_call(code), port, self.ports().sip, callee, Some(&fields)).await;
        assert!(outcome.passed, "{caller} calling out should end {code}: {}\n{}", outcome.errors, self.kamailio.log());
    }
}

fn options(ports: &SipPorts) -> Options {
    let calls = CallSettings {
        allow_private_targets: true,
        sip_servers: vec![ports.rpc_url().parse().unwrap()],
        credentials_ttl: Duration::from_secs(60),
    };
    Options { calls, ..Options::default() }
}

fn target(port: u16) -> String {
    format!("sip:127.0.0.1:{port}")
}

/// Runs a SIPp scenario again and again until it passes, for up to 2 seconds (what the issue
/// allows a change to take to reach the SIP server).
async fn passes_within_two_seconds(what: &str, kamailio: &Kamailio, scenario: &str, service: &str, fields: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let outcome = sip::run(scenario, sip::free_port(), kamailio.ports.sip, service, Some(fields)).await;
        if outcome.passed {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: not in force within 2 s: {}", outcome.errors);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs Kamailio and SIPp: make test runs it (scripts/install-tools.sh sip)"]
async fn a_device_registers_with_its_numbers_credentials_and_no_others() {
    let edge = Edge::start().await;
    let (_, user_a, password_a) = edge.number("+14155550101", None, json!({})).await;
    let (id_b, user_b, password_b) = edge.number("+14155550102", None, json!({})).await;
    let port = sip::free_port();
    let registered = edge.register(port, "+14155550101", &user_a, &password_a, 200).await;
    // The accepted REGISTER sent again, as a new request (another branch) with the same digest
    // response (nonce and count), answered where it came from (rport): challenged anew (stale),
    // never accepted.
    let sent = registered.last_sent("REGISTER").expect("the REGISTER SIPp sent");
    assert!(sent.contains("Authorization: Digest"), "{sent}");
    let replay = sent.replace(";branch=z9hG4bK", ";rport;branch=z9hG4bKreplay").replace("CSeq: 2 ", "CSeq: 3 ");
    assert_eq!(sip::send_udp(&replay, edge.ports().sip).await, "SIP/2.0 401 Unauthorized");

    edge.register(port, "+14155550101", &user_a, "not-the-password", 403).await;
    edge.register(port, "+14155550101", "nobody", "whatever", 403).await;
    // A's credentials cannot register as B.
    edge.register(port, "+14155550102", &user_a, &password_a, 403).await;
    // A released number's old credentials stop working.
    edge.register(port, "+14155550102", &user_b, &password_b, 200).await;
    let release = format!("/v1/phone-numbers/{id_b}?action=release");
    assert_eq!(edge.app.call(Method::DELETE, &release, &edge.org.live_key).await.status(), 200);
    let fields = format!("+14155550102;{};", sip::credentials(&user_b, &password_b));
    let refused = sip::register(SIP_DOMAIN, 403);
    passes_within_two_seconds("a released number's credentials", &edge.kamailio, &refused, "x", &fields).await;
}

#[tokio::test]
#[ignore = "needs Kamailio and SIPp: make test runs it (scripts/install-tools.sh sip)"]
async fn an_inbound_call_reaches_the_first_target_which_sees_the_dialled_number() {
    let edge = Edge::start().await;
    let (first, second) = (sip::free_port(), sip::free_port());
    let endpoint = edge.endpoint(&[target(first), target(second)], 2).await;
    edge.number("+14155550103", Some(&endpoint), json!({})).await;
    let answering = sip::Sipp::start(&sip::answering_party(), first, None, "x", None);
    let idle = sip::Sipp::start(&sip::answering_party(), second, None, "x", None);
    edge.call_in("+14155550103", 200).await;
    let answered = answering.finish().await;
    assert!(answered.passed, "the first target took the call, its ACK and its BYE: {}", answered.errors);
    assert!(answered.received_request_line("INVITE sip:+14155550103@127.0.0.1"), "{}", answered.messages);
    assert!(!idle.stop().received_request_line("INVITE"), "the second target is not called");
    // The carrier may send the number without its +.
    let answering = sip::Sipp::start(&sip::answering_party(), first, None, "x", None);
    edge.call_in("14155550103", 200).await;
    assert!(answering.finish().await.passed);
}

#[tokio::test]
#[ignore = "needs Kamailio and SIPp: make test runs it (scripts/install-tools.sh sip)"]
async fn a_target_that_is_down_or_fails_hands_the_call_to_the_next() {
    let edge = Edge::start().await;
    let (nobody, failing, answering) = (sip::free_port(), sip::free_port(), sip::free_port());
    let endpoint = edge.endpoint(&[target(nobody), target(failing), target(answering)], 1).await;
    edge.number("+14155550104", Some(&endpoint), json!({})).await;
    let fails = sip::Sipp::start(&sip::refusing_party(503, "Service Unavailable"), failing, None, "x", None);
    let answers = sip::Sipp::start(&sip::answering_party(), answering, None, "x", None);
    edge.call_in("+14155550104", 200).await;
    assert!(fails.finish().await.passed, "the second target was tried after the first did not answer");
    assert!(answers.finish().await.passed, "the third answered");
}

#[tokio::test]
#[ignore = "needs Kamailio and SIPp: make test runs it (scripts/install-tools.sh sip)"]
async fn busy_and_declined_are_final() {
    let edge = Edge::start().await;
    let (busy, next) = (sip::free_port(), sip::free_port());
    let endpoint = edge.endpoint(&[target(busy), target(next)], 2).await;
    edge.number("+14155550105", Some(&endpoint), json!({})).await;
    for (code, reason) in [(486, "Busy Here"), (603, "Decline")] {
        let refusing = sip::Sipp::start(&sip::refusing_party(code, reason), busy, None, "x", None);
        let idle = sip::Sipp::start(&sip::answering_party(), next, None, "x", None);
        edge.call_in("+14155550105", code).await;
        assert!(refusing.finish().await.passed);
        assert!(!idle.stop().received_request_line("INVITE"), "after {code} no other target is called");
    }
}

#[tokio::test]
#[ignore = "needs Kamailio and SIPp: make test runs it (scripts/install-tools.sh sip)"]
async fn numbers_that_take_no_call_refuse_it_and_no_target_sees_it() {
    let edge = Edge::start().await;
    let port = sip::free_port();
    let endpoint = edge.endpoint(&[target(port)], 2).await;
    let (released, _, _) = edge.number("+14155550106", Some(&endpoint), json!({})).await;
    edge.number("+14155550107", Some(&endpoint), json!({"status": "inactive"})).await;
    edge.number("+14155550108", Some(&endpoint), json!({"allowInbound": false})).await;
    let release = format!("/v1/phone-numbers/{released}?action=release");
    assert_eq!(edge.app.call(Method::DELETE, &release, &edge.org.live_key).await.status(), 200);

    let target = sip::Sipp::start(&sip::answering_party(), port, None, "x", None);
    edge.call_in("+14155550199", 404).await;
    edge.call_in("+14155550106", 404).await;
    edge.call_in("+14155550107", 480).await;
    edge.call_in("+14155550108", 403).await;
    assert!(!target.stop().received_request_line("INVITE"), "no refused call reached the target");
}

#[tokio::test]
#[ignore = "needs Kamailio and SIPp: make test runs it (scripts/install-tools.sh sip)"]
async fn without_targets_a_call_rings_the_device_registered_as_the_number() {
    let edge = Edge::start().await;
    let (_, user, password) = edge.number("+14155550109", None, json!({})).await;
    edge.call_in("+14155550109", 480).await;
    let devices = || edge.app.ctx.sip_servers.registered_devices("+14155550109");
    assert_eq!(devices().await, Some(0), "none registered, as Kamailio says");
    let device = sip::free_port();
    edge.register(device, "+14155550109", &user, &password, 200).await;
    assert_eq!(devices().await, Some(1), "the dashboard's count comes from Kamailio");
    let phone = sip::Sipp::start(&sip::answering_party(), device, None, "x", None);
    edge.call_in("+14155550109", 200).await;
    let rang = phone.finish().await;
    assert!(rang.passed, "the registered device answered: {}", rang.errors);
    assert!(rang.received_request_line("INVITE sip:+14155550109@127.0.0.1"), "{}", rang.messages);
}

#[tokio::test]
#[ignore = "needs Kamailio and SIPp: make test runs it (scripts/install-tools.sh sip)"]
async fn a_device_calls_out_only_as_its_number_and_only_while_allowed() {
    let edge = Edge::start().await;
    let (id, user, password) = edge.number("+14155550110", None, json!({"allowOutbound": true})).await;
    edge.number("+14155550111", None, json!({"allowOutbound": true})).await;
    let gateway = sip::Sipp::start(&sip::answering_party(), edge.ports().gateway, None, "x", None);
    edge.call_out("+14155550110", &user, &password, "+12125550100", 200).await;
    let carried = gateway.finish().await;
    assert!(carried.passed, "the carrier's gateway took the call: {}", carried.errors);
    assert!(carried.received_request_line("INVITE sip:+12125550100@"), "{}", carried.messages);

    // Another number as the caller ID: refused, whatever that number may do.
    edge.call_out("+14155550111", &user, &password, "+12125550100", 403).await;
    // Outbound switched off: refused within 2 s, though the credentials were cached.
    edge.patch(&id, json!({"allowOutbound": false})).await;
    let fields = format!("+14155550110;{};", sip::credentials(&user, &password));
    passes_within_two_seconds("outbound switched off", &edge.kamailio, &sip::device_call(403), "+12125550100", &fields)
        .await;
}

#[tokio::test]
#[ignore = "needs Kamailio and SIPp: make test runs it (scripts/install-tools.sh sip)"]
async fn changes_are_in_force_for_the_next_call_within_two_seconds() {
    let edge = Edge::start().await;
    let (id, user, password) = edge.number("+14155550112", None, json!({})).await;
    let device = sip::free_port();
    // Registered: the credentials are in Kamailio's cache now.
    edge.register(device, "+14155550112", &user, &password, 200).await;

    // A rotation: the old password stops working, the new one works.
    let rotate = format!("/v1/phone-numbers/{id}/sip-credentials/rotate");
    let rotated = body_json(edge.app.call(Method::POST, &rotate, &edge.org.live_key).await).await;
    let new_password = rotated["sip_credentials"]["password"].as_str().unwrap().to_string();
    let fields = format!("+14155550112;{};", sip::credentials(&user, &password));
    let refused = sip::register(SIP_DOMAIN, 403);
    passes_within_two_seconds("a rotated password", &edge.kamailio, &refused, "x", &fields).await;
    edge.register(device, "+14155550112", &user, &new_password, 200).await;

    // Inbound switched off: the next call is refused.
    edge.patch(&id, json!({"allowInbound": false})).await;
    edge.call_in("+14155550112", 403).await;
    edge.patch(&id, json!({"allowInbound": true})).await;

    // Released: its device no longer rings (the call is 404), its registration is gone.
    let release = format!("/v1/phone-numbers/{id}?action=release");
    assert_eq!(edge.app.call(Method::DELETE, &release, &edge.org.live_key).await.status(), 200);
    edge.call_in("+14155550112", 404).await;
    let registrations = kamailio_rpc(&edge.kamailio, "ul.lookup", json!(["location", "+14155550112"])).await;
    assert!(registrations.get("error").is_some(), "the registration is removed: {registrations}");
}

/// One JSON-RPC call to Kamailio (its answer).
async fn kamailio_rpc(kamailio: &Kamailio, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1});
    let res = reqwest::Client::new().post(kamailio.ports.rpc_url()).json(&body).send().await.unwrap();
    res.json().await.unwrap()
}

/// The SIP door on a port of its own that a test can close and open again.
struct Door {
    port: u16,
    ctx: Context,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Door {
    async fn open(ctx: Context, port: u16) -> Door {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("the door's port");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = kros_numbers::sip_door::router(ctx.clone(), SIP_DOOR_SECRET.into());
        let shutdown = async move {
            let _ = stopped.await;
        };
        tokio::spawn(kros_numbers::server::connections::serve(listener, router, Default::default(), shutdown));
        Door { port, ctx, stop: Some(stop) }
    }

    async fn close(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    async fn reopen(&mut self) {
        *self = Door::open(self.ctx.clone(), self.port).await;
    }
}

#[tokio::test]
#[ignore = "needs Kamailio and SIPp: make test runs it (scripts/install-tools.sh sip)"]
async fn while_the_service_is_away_calls_get_503_cached_devices_keep_registering_and_nothing_is_misrouted() {
    let ports = SipPorts::pick();
    let app = TestApp::spawn_with(options(&ports)).await;
    let door_port = sip::free_port();
    let mut door = Door::open(app.ctx.clone(), door_port).await;
    let kamailio = Kamailio::start(ports, &format!("http://127.0.0.1:{door_port}"), SIP_DOOR_SECRET, SIP_DOMAIN);
    let edge = Edge { org: app.org("Acme").await, app, kamailio };
    let target_port = sip::free_port();
    let endpoint = edge.endpoint(&[target(target_port)], 2).await;
    edge.number("+14155550113", Some(&endpoint), json!({})).await;
    let (_, user, password) = edge.number("+14155550114", None, json!({})).await;
    let (_, other_user, other_password) = edge.number("+14155550115", None, json!({})).await;
    let device = sip::free_port();
    edge.register(device, "+14155550114", &user, &password, 200).await;

    door.close().await;
    let target = sip::Sipp::start(&sip::answering_party(), target_port, None, "x", None);
    edge.call_in("+14155550113", 503).await;
    assert!(!target.stop().received_request_line("INVITE"), "no call is sent anywhere while the service is away");
    // A device whose credentials are cached keeps registering; one not cached gets 503.
    edge.register(device, "+14155550114", &user, &password, 200).await;
    let fields = format!("+14155550115;{};", sip::credentials(&other_user, &other_password));
    let unavailable = sip::register(SIP_DOMAIN, 503);
    let unknown = sip::run(&unavailable, sip::free_port(), edge.ports().sip, "x", Some(&fields)).await;
    assert!(unknown.passed, "credentials that cannot be checked: 503: {}", unknown.errors);

    door.reopen().await;
    let target = sip::Sipp::start(&sip::answering_party(), target_port, None, "x", None);
    edge.call_in("+14155550113", 200).await;
    assert!(target.finish().await.passed, "calls route again once the service is back");
}

#[tokio::test]
#[ignore = "needs Kamailio and SIPp: make test runs it (scripts/install-tools.sh sip)"]
async fn a_test_mode_number_is_reached_from_the_test_trunk_only() {
    let edge = Edge::start().await;
    let n = edge.app.buy_sip_number(&edge.org.test_key, Mode::Test, "+14155550116", None, json!({})).await;
    let (user, password) = (n.username.as_str(), n.password.as_str());
    let device = sip::free_port();
    edge.register(device, "+14155550116", user, password, 200).await;
    edge.call_in("+14155550116", 404).await;
    let phone = sip::Sipp::start(&sip::answering_party(), device, None, "x", None);
    edge.call_in_from(edge.ports().test_trunk, "+14155550116", 200).await;
    assert!(phone.finish().await.passed, "the test trunk's call rang the device");
}

#[tokio::test]
#[ignore = "needs Kamailio and SIPp: make test runs it (scripts/install-tools.sh sip)"]
async fn every_kamailio_in_the_list_hears_of_a_change() {
    let (first_ports, second_ports) = (SipPorts::pick(), SipPorts::pick());
    let mut options = options(&first_ports);
    options.calls.sip_servers.push(second_ports.rpc_url().parse().unwrap());
    let app = TestApp::spawn_with(options).await;
    let first = Kamailio::start(first_ports, &app.sip_door, SIP_DOOR_SECRET, SIP_DOMAIN);
    let second = Kamailio::start(second_ports, &app.sip_door, SIP_DOOR_SECRET, SIP_DOMAIN);
    let edge = Edge { org: app.org("Acme").await, app, kamailio: first };
    let (id, user, password) = edge.number("+14155550117", None, json!({})).await;
    let fields = format!("+14155550117;{};", sip::credentials(&user, &password));
    // Both instances cache the credentials.
    let accepted = sip::register(SIP_DOMAIN, 200);
    for kamailio in [&edge.kamailio, &second] {
        let outcome = sip::run(&accepted, sip::free_port(), kamailio.ports.sip, "x", Some(&fields)).await;
        assert!(outcome.passed, "{}", outcome.errors);
    }
    let rotate = format!("/v1/phone-numbers/{id}/sip-credentials/rotate");
    assert_eq!(edge.app.call(Method::POST, &rotate, &edge.org.live_key).await.status(), 200);
    let refused = sip::register(SIP_DOMAIN, 403);
    passes_within_two_seconds("the first instance", &edge.kamailio, &refused, "x", &fields).await;
    passes_within_two_seconds("the second instance", &second, &refused, "x", &fields).await;
}

/// A TCP relay to `to` that a test can block (connections refused) and open again: what
/// "Kamailio's JSON-RPC port unreachable for a moment" looks like to the service.
struct Blockable {
    port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Blockable {
    async fn relay_to(to: u16) -> Blockable {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let gate = open.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !gate.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection closed
                }
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Blockable { port, open }
    }

    fn set_open(&self, open: bool) {
        self.open.store(open, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
#[ignore = "needs Kamailio and SIPp: make test runs it (scripts/install-tools.sh sip)"]
async fn a_notice_that_finds_kamailio_away_for_a_moment_is_sent_again() {
    let ports = SipPorts::pick();
    let relay = Blockable::relay_to(ports.rpc).await;
    let mut options = options(&ports);
    options.calls.sip_servers = vec![format!("http://127.0.0.1:{}/RPC", relay.port).parse().unwrap()];
    let app = TestApp::spawn_with(options).await;
    let kamailio = Kamailio::start(ports, &app.sip_door, SIP_DOOR_SECRET, SIP_DOMAIN);
    let edge = Edge { org: app.org("Acme").await, app, kamailio };
    let (id, user, password) = edge.number("+14155550118", None, json!({})).await;
    edge.register(sip::free_port(), "+14155550118", &user, &password, 200).await;

    // The rotation's notice finds Kamailio's JSON-RPC port closed; the cache still holds the
    // old credentials, which keep working meanwhile.
    relay.set_open(false);
    let rotate = format!("/v1/phone-numbers/{id}/sip-credentials/rotate");
    assert_eq!(edge.app.call(Method::POST, &rotate, &edge.org.live_key).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(800)).await;
    edge.register(sip::free_port(), "+14155550118", &user, &password, 200).await;
    // The port is back: the notice gets through, and the old password stops working.
    relay.set_open(true);
    let fields = format!("+14155550118;{};", sip::credentials(&user, &password));
    passes_within_two_seconds("a notice sent again", &edge.kamailio, &sip::register(SIP_DOMAIN, 403), "x", &fields)
        .await;
}
