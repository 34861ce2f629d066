//! Real SIP for the tests: a Kamailio started by `scripts/sip.sh` (as an operator starts it) in
//! front of a test app's SIP door, and SIPp peers playing carriers, devices and targets, all on
//! 127.0.0.1. The scenarios are written here, one function each, with what they expect.
//!
//! Kamailio and SIPp come from Debian's packages (`scripts/install-tools.sh sip`); a test that
//! finds them missing fails, saying so.

#![allow(dead_code)]

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A free port for both UDP and TCP on 127.0.0.1.
pub fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("a UDP port");
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn require(program: &str) {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {program}")).output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "{program} is missing: run scripts/install-tools.sh sip (make test does)"
    );
}

/// The ports of one Kamailio and its peers, chosen before anything starts (the app is told
/// the JSON-RPC port before Kamailio listens on it).
#[derive(Debug, Clone, Copy)]
pub struct SipPorts {
    pub sip: u16,
    pub rpc: u16,
    /// Where the live carrier's and the test trunk's calls come from.
    pub carrier: u16,
    pub test_trunk: u16,
    /// Where outbound calls go (a SIPp UAS plays the carrier's gateway).
    pub gateway: u16,
}

impl SipPorts {
    pub fn pick() -> SipPorts {
        SipPorts {
            sip: free_port(),
            rpc: free_port(),
            carrier: free_port(),
            test_trunk: free_port(),
            gateway: free_port(),
        }
    }

    /// The JSON-RPC URL the service drops cached credentials through (KROS_SIP_KAMAILIO_RPC).
    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}/RPC", self.rpc)
    }
}

/// A running Kamailio; stopped when dropped.
pub struct Kamailio {
    dir: tempfile::TempDir,
    pub ports: SipPorts,
    door: String,
    secret: String,
    domain: String,
}

impl Kamailio {
    /// Starts Kamailio on `ports` in front of the SIP door at `door` (`http://127.0.0.1:PORT`).
    pub fn start(ports: SipPorts, door: &str, secret: &str, domain: &str) -> Kamailio {
        require("kamailio");
        require("sipp");
        let kamailio = Kamailio {
            dir: tempfile::tempdir().unwrap(),
            ports,
            door: door.to_string(),
            secret: secret.to_string(),
            domain: domain.to_string(),
        };
        kamailio.run_script("start");
        kamailio
    }

    fn run_script(&self, command: &str) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sip.sh");
        let mut args: Vec<String> = vec![command.into(), "--dir".into(), self.dir.path().display().to_string()];
        if command != "stop" {
            let options = [
                ("--door", self.door.clone()),
                ("--secret", self.secret.clone()),
                ("--listen", format!("127.0.0.1:{}", self.ports.sip)),
                ("--rpc", format!("127.0.0.1:{}", self.ports.rpc)),
                ("--domain", self.domain.clone()),
                ("--carriers", format!("127.0.0.1:{}", self.ports.carrier)),
                ("--test-carriers", format!("127.0.0.1:{}", self.ports.test_trunk)),
                ("--gateway", format!("127.0.0.1:{}", self.ports.gateway)),
            ];
            for (flag, value) in options {
                args.push(flag.into());
                args.push(value);
            }
        }
        let out = Command::new(script).args(&args).output().expect("scripts/sip.sh runs");
        assert!(
            out.status.success(),
            "scripts/sip.sh {command} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Kamailio's own log (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("kamailio.log")).unwrap_or_default()
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        self.run_script("stop");
    }
}

/// How a SIPp run ended: its exit status and what it wrote (errors and the messages it saw).
#[derive(Debug)]
pub struct Outcome {
    pub passed: bool,
    pub messages: String,
    pub errors: String,
}

impl Outcome {
    /// Whether a request SIPp received started with this line (e.g. "INVITE sip:+1415...@").
    pub fn received_request_line(&self, start: &str) -> bool {
        self.messages.lines().any(|line| line.trim_start().starts_with(start))
    }

    /// The last message SIPp sent whose first line starts with `start`, as it went out.
    pub fn last_sent(&self, start: &str) -> Option<String> {
        // The trace: a line of dashes and a time, "UDP message sent (N bytes):", a blank line,
        // then the message.
        self.messages
            .split("-----------------------------------------------")
            .filter_map(|block| block.split_once("message sent").map(|(_, rest)| rest))
            .filter_map(|rest| rest.split_once("\n\n").map(|(_, message)| message.trim_start()))
            .filter(|message| message.starts_with(start))
            .last()
            .map(|message| message.trim_end().replace("\r\n", "\n").replace('\n', "\r\n") + "\r\n\r\n")
    }
}

/// Sends `message` to 127.0.0.1:`port` over UDP from a port of its own; the first line of the
/// answer (within 3 s).
pub async fn send_udp(message: &str, port: u16) -> String {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(message.as_bytes(), ("127.0.0.1", port)).await.unwrap();
    let mut buffer = vec![0; 65536];
    loop {
        let received = tokio::time::timeout(Duration::from_secs(3), socket.recv(&mut buffer)).await;
        let answer = String::from_utf8_lossy(&buffer[..received.expect("an answer within 3 s").unwrap()]).to_string();
        let status = answer.lines().next().unwrap_or_default().to_string();
        // A provisional answer is followed by the final one.
        if !status.starts_with("SIP/2.0 1") {
            return status;
        }
    }
}

/// One SIPp process: a scenario from a local port, to Kamailio (or waiting, as a UAS).
pub struct Sipp {
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Sipp {
    /// Starts SIPp with `scenario` on 127.0.0.1:`local_port`, sending to 127.0.0.1:`remote`
    /// (none for a UAS), one call, `service` as the dialled user, `inject` as its field file.
    pub fn start(scenario: &str, local_port: u16, remote: Option<u16>, service: &str, inject: Option<&str>) -> Sipp {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str| dir.path().join(name);
        std::fs::write(file("scenario.xml"), scenario).unwrap();
        let mut command = Command::new("sipp");
        command
            .arg("-sf")
            .arg(file("scenario.xml"))
            .args(["-i", "127.0.0.1", "-p", &local_port.to_string(), "-m", "1", "-s", service])
            .args(["-nostdin", "-timeout", "15s", "-timeout_error", "-trace_err", "-trace_msg"])
            .arg("-error_file")
            .arg(file("errors.log"))
            .arg("-message_file")
            .arg(file("messages.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(fields) = inject {
            std::fs::write(file("fields.csv"), format!("SEQUENTIAL\n{fields}\n")).unwrap();
            command.arg("-inf").arg(file("fields.csv"));
        }
        if let Some(port) = remote {
            command.arg(format!("127.0.0.1:{port}"));
        }
        Sipp { child: command.spawn().expect("sipp starts"), dir }
    }

    /// Waits for the scenario to end (at most 20 s).
    pub async fn finish(mut self) -> Outcome {
        let mut waited = Duration::ZERO;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break Some(status);
            }
            if waited > Duration::from_secs(20) {
                let _ = self.child.kill();
                break None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            waited += Duration::from_millis(20);
        };
        let read = |name: &str| read_dir_file(self.dir.path(), name);
        Outcome {
            passed: status.is_some_and(|s| s.success()),
            messages: read("messages.log"),
            errors: read("errors.log"),
        }
    }

    /// Stops a UAS that is still waiting.
    pub fn stop(mut self) -> Outcome {
        let _ = self.child.kill();
        let _ = self.child.wait();
        Outcome { passed: false, messages: read_dir_file(self.dir.path(), "messages.log"), errors: String::new() }
    }
}

/// SIPp names its trace files after the scenario; the options above fix them.
fn read_dir_file(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(PathBuf::from(dir).join(name)).unwrap_or_default()
}

/// Runs a UAC scenario to its end.
pub async fn run(scenario: &str, local_port: u16, remote: u16, service: &str, inject: Option<&str>) -> Outcome {
    Sipp::start(scenario, local_port, Some(remote), service, inject).finish().await
}

/// The injection field a digest response takes (`[field1]` in the scenarios).
pub fn credentials(username: &str, password: &str) -> String {
    format!("[authentication username={username} password={password}]")
}

// The scenarios. `[service]` is the number dialled (or the number a device acts as).

const SDP: &str = "v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000";

fn invite(from_user: &str, extra_header: &str, cseq: u32) -> String {
    format!(
        r#"  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{from_user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: {cseq} INVITE
      Contact: <sip:{from_user}@[local_ip]:[local_port]>
      Max-Forwards: 70
      {extra_header}
      Content-Type: application/sdp
      Content-Length: [len]

      {SDP}
    ]]>
  </send>
"#
    )
}

/// An ACK for a non-2xx final answer: the INVITE's branch (SIPp counts `back` scenario
/// elements, receptions included, from the INVITE to this ACK) and its CSeq.
fn ack_failure(from_user: &str, back: usize, cseq: u32) -> String {
    format!(
        r#"  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-{back}]
      From: <sip:{from_user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"#
    )
}

/// The answer's ACK (the INVITE's CSeq), then a BYE, both along the dialog's route.
fn ack_and_bye(from_user: &str, cseq: u32) -> String {
    let bye = cseq + 1;
    format!(
        r#"  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: <sip:{from_user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <pause milliseconds="100"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: <sip:{from_user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {bye} BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
"#
    )
}

fn scenario(name: &str, body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"{name}\">\n{body}</scenario>\n")
}

/// A carrier's call to `[service]` that is answered, acknowledged and hung up.
pub fn carrier_call_answered() -> String {
    let body = [
        invite("+15550001111", "", 1),
        r#"  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
"#
        .to_string(),
        ack_and_bye("+15550001111", 1),
    ]
    .concat();
    scenario("carrier call answered", &body)
}

/// A carrier's call to `[service]` that ends with `code` (acknowledged).
pub fn carrier_call_refused(code: u16) -> String {
    let body = [
        invite("+15550001111", "", 1),
        format!(
            r#"  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="{code}"/>
"#
        ),
        ack_failure("+15550001111", 5, 1),
    ]
    .concat();
    scenario(&format!("carrier call refused {code}"), &body)
}

/// A device (`[field0]` is its number, `[field1]` its credentials) registering: challenged,
/// then answered `code`.
pub fn register(domain: &str, code: u16) -> String {
    let request = |cseq: u32, auth: &str| {
        format!(
            r#"  <send retrans="500">
    <![CDATA[
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@{domain}>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@{domain}>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      {auth}
      Expires: 600
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"#
        )
    };
    let mut body = request(1, "") + "  <recv response=\"401\" auth=\"true\"/>\n" + &request(2, "[field1]");
    body += &format!("  <recv response=\"{code}\"/>\n");
    scenario("device registers", &body)
}

/// A device (`[field0]` its number, `[field1]` its credentials) calling `[service]` out: the
/// INVITE is challenged (407), then sent with credentials and `code` is the final answer (200:
/// answered, acknowledged and hung up).
pub fn device_call(code: u16) -> String {
    let mut body = invite("[field0]", "", 1)
        + r#"  <recv response="100" optional="true"/>
  <recv response="407" auth="true"/>
"# + &ack_failure("[field0]", 3, 1)
        + &invite("[field0]", "[field1]", 2)
        + "  <recv response=\"100\" optional=\"true\"/>\n  <recv response=\"180\" optional=\"true\"/>\n";
    if code == 200 {
        body += "  <recv response=\"200\" rrs=\"true\"/>\n";
        body += &ack_and_bye("[field0]", 2);
    } else {
        body += &format!("  <recv response=\"{code}\"/>\n");
        body += &ack_failure("[field0]", 4, 2);
    }
    scenario(&format!("device calls out {code}"), &body)
}

/// A target (or a registered device, or the carrier's gateway) that rings and answers, then
/// takes the hang-up.
pub fn answering_party() -> String {
    let reply = |status: &str, sdp: bool| {
        let (content_type, body) = if sdp { ("Content-Type: application/sdp\n      ", SDP) } else { ("", "") };
        format!(
            r#"  <send{retrans}>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      {content_type}Content-Length: [len]

      {body}
    ]]>
  </send>
"#,
            retrans = if sdp { " retrans=\"500\"" } else { "" }
        )
    };
    let body = "  <recv request=\"INVITE\" crlf=\"true\"/>\n".to_string()
        + &reply("180 Ringing", false)
        + &reply("200 OK", true)
        + "  <recv request=\"ACK\" crlf=\"true\"/>\n  <recv request=\"BYE\"/>\n"
        + r#"  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
"#;
    scenario("answers", &body)
}

/// A target that refuses the call with `code` (no ringing first).
pub fn refusing_party(code: u16, reason: &str) -> String {
    let body = format!(
        r#"  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[
      SIP/2.0 {code} {reason}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
  <recv request="ACK"/>
"#
    );
    scenario(&format!("refuses {code}"), &body)
}
