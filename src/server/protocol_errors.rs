//! The API's JSON error for requests hyper refuses while parsing them, before any handler or
//! middleware runs: a URL over its 64 KiB limit (414), a head over its read buffer (431), and
//! malformed framing such as two different `Content-Length` values or a bad header (400).
//!
//! hyper answers those itself with an empty body and has no hook for another one, so the
//! connection's writer recognizes that answer and writes the contract's error shape in its place.
//! The answer is told apart by being bodiless (`content-length: 0`): the application's own 400,
//! 414 and 431 always carry a JSON body (`AppError::into_response`), and hyper closes the
//! connection after its answer, so nothing follows it.

use super::security::{MAX_HEADERS, MAX_HEADER_BYTES, MAX_URI_BYTES};
use crate::error::AppError;
use hyper::rt::{Read, ReadBufCursor, Write};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A connection's reader and writer, with hyper's bodiless protocol errors rewritten as JSON.
pub struct JsonProtocolErrors<T> {
    inner: T,
    /// The JSON answer being written in place of hyper's, and how much of it has gone out.
    replacement: Option<(Vec<u8>, usize)>,
}

impl<T> JsonProtocolErrors<T> {
    pub fn new(inner: T) -> Self {
        JsonProtocolErrors { inner, replacement: None }
    }
}

/// The error hyper's bodiless answer stands for, if `head` is one. Every response passes here:
/// the status is read from the first bytes, and only the three statuses are looked at further.
fn refused_by_hyper(head: &[u8]) -> Option<AppError> {
    let status = head.strip_prefix(b"HTTP/1.1 ").or_else(|| head.strip_prefix(b"HTTP/1.0 "))?.get(..4)?;
    let error = match status {
        b"400 " => AppError::Validation {
            message: "the request is not valid HTTP/1.1 (a malformed request line or header, \
                      or conflicting Content-Length headers)"
                .into(),
            field: None,
        },
        b"414 " => AppError::UriTooLong(MAX_URI_BYTES),
        b"431 " => AppError::HeadersTooLarge { count: MAX_HEADERS, bytes: MAX_HEADER_BYTES },
        _ => return None,
    };
    let text = std::str::from_utf8(head).ok()?;
    let is_bodiless = text.ends_with("\r\n\r\n") && text.to_ascii_lowercase().contains("\r\ncontent-length: 0\r\n");
    is_bodiless.then_some(error)
}

/// The whole HTTP answer for `error`: no request was parsed, so its request id is a new one.
fn json_answer(error: &AppError) -> Vec<u8> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = serde_json::to_vec(&error.body(Some(request_id.clone()))).expect("an error body always serializes");
    let status = crate::api::error::status_of(error);
    let reason = status.canonical_reason().unwrap_or("");
    let mut answer = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         x-request-id: {request_id}\r\nx-content-type-options: nosniff\r\ncache-control: no-store\r\n\
         connection: close\r\n\r\n",
        status.as_u16(),
        body.len(),
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer
}

impl<T: Write + Unpin> JsonProtocolErrors<T> {
    /// Writes the rest of the replacement; ready once all of it is out.
    fn poll_write_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((answer, written)) = &mut self.replacement {
            if *written == answer.len() {
                self.replacement = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &answer[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Starts replacing `head` if it is hyper's bodiless protocol error.
    fn start_replacing(&mut self, head: &[u8]) -> bool {
        match refused_by_hyper(head) {
            Some(error) => {
                tracing::debug!(code = error.code().as_str(), "answering a request hyper could not parse");
                self.replacement = Some((json_answer(&error), 0));
                true
            }
            None => false,
        }
    }
}

impl<T: Read + Unpin> Read for JsonProtocolErrors<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: ReadBufCursor<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for JsonProtocolErrors<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // hyper hands the same bytes again while a write is pending, so a replacement under
        // way stands for them.
        if this.replacement.is_some() || this.start_replacing(buf) {
            ready!(this.poll_write_replacement(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let first = bufs.iter().find(|buf| !buf.is_empty()).map(|buf| &buf[..]).unwrap_or(&[]);
        // A bodiless answer is its head alone, in one slice.
        if this.replacement.is_some() || this.start_replacing(first) {
            ready!(this.poll_write_replacement(cx))?;
            return Poll::Ready(Ok(bufs.iter().map(|buf| buf.len()).sum()));
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_replacement(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_replacement(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyper_bodiless_refusals_are_recognized() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert_eq!(refused_by_hyper(head).map(|e| e.code()), Some(crate::domain::ErrorCode::HeadersTooLarge));
        let head = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(refused_by_hyper(head).map(|e| e.code()), Some(crate::domain::ErrorCode::UriTooLong));
        let head = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(refused_by_hyper(head).map(|e| e.code()), Some(crate::domain::ErrorCode::ValidationError));
    }

    #[test]
    fn the_applications_answers_pass_untouched() {
        // A JSON error of the application's own, and a bodiless answer of another status.
        let head = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 80\r\n\r\n";
        assert!(refused_by_hyper(head).is_none());
        assert!(refused_by_hyper(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(refused_by_hyper(b"{\"data\": []}").is_none());
    }

    #[test]
    fn the_answer_is_the_contracts_error_shape() {
        let answer = String::from_utf8(json_answer(&AppError::UriTooLong(MAX_URI_BYTES))).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], "uri_too_long");
        assert!(body["request_id"].is_string());
    }
}
