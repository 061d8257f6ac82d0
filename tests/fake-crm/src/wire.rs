//! HTTP/1.1 on the wire, as little as the fake needs: read one request (bounded head, body by
//! Content-Length), write one response, then close the connection.
//!
//! Hand-written on purpose: tiny_http 0.12 (the small synchronous server crate) reads a header
//! line without any bound (a 64 MiB header took the process from 3 MB to 135 MB), and for a
//! request announcing a huge Content-Length it allocates that size and keeps reading the body
//! after we answered 413, so the connection never closes. Here the head is capped at 64 KiB
//! (431) and an oversized body is refused before it is read (413). Query strings are decoded
//! by `form_urlencoded`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// Largest request head (request line and headers).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Largest request body.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// One parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`, not decoded.
    pub query: String,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One response; always sent with `Connection: close`.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Response {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        }
    }

    pub fn raw(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// Reads one request. On malformed or oversized input, the error is the response to send.
pub fn read_request(stream: &mut TcpStream) -> Result<Request, Response> {
    let bad = |status: u16, text: &str| Response::raw(status, "text/plain", text.to_string());
    let mut reader = BufReader::new(stream.try_clone().map_err(|_| bad(500, "clone failed"))?);

    let mut head_bytes = 0usize;
    let mut lines = Vec::new();
    loop {
        let mut line = Vec::new();
        let limit = (MAX_HEAD_BYTES - head_bytes + 1) as u64;
        let n = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut line)
            .map_err(|_| bad(400, "could not read the request"))?;
        if n == 0 {
            return Err(bad(400, "the connection closed mid-request"));
        }
        head_bytes += n;
        if head_bytes > MAX_HEAD_BYTES {
            return Err(bad(431, "request head too large"));
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        if text.is_empty() {
            if lines.is_empty() {
                continue; // tolerate a stray CRLF before the request line
            }
            break;
        }
        lines.push(text);
    }

    let mut parts = lines[0].split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(400, "malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(bad(505, "only HTTP/1.x is spoken here"));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.to_string(), String::new()),
    };

    let mut headers = Vec::new();
    for line in &lines[1..] {
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad(400, "malformed header line"));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut request = Request {
        method: method.to_string(),
        path,
        query,
        headers,
        body: Vec::new(),
    };

    if request
        .header("transfer-encoding")
        .is_some_and(|v| !v.eq_ignore_ascii_case("identity"))
    {
        return Err(bad(411, "send a Content-Length, not a chunked body"));
    }
    let length = match request.header("content-length") {
        None => 0,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| bad(400, "invalid Content-Length"))?,
    };
    if length > MAX_BODY_BYTES {
        return Err(bad(413, "request body too large"));
    }
    if length > 0 {
        if request
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let mut body = vec![0u8; length];
        reader
            .read_exact(&mut body)
            .map_err(|_| bad(400, "the body is shorter than its Content-Length"))?;
        request.body = body;
    }
    Ok(request)
}

/// Writes a response and ends the connection. Errors (the client gave up) are ignored.
pub fn write_response(stream: &mut TcpStream, response: &Response) {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&response.body);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

/// Decodes a query string (or a form body) the way PHP and Django do: `+` is a space, `%XX`
/// a byte.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The first value of `name` in a query string, decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Decodes `%XX` in a path segment (`+` stays a plus, as in paths it is one); a `%` not
/// followed by two hex digits stays as it is. Invalid UTF-8 is replaced.
pub fn decode_component(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_decode_without_plus_rules() {
        assert_eq!(
            decode_component("ann%2Bshop%40example.com"),
            "ann+shop@example.com"
        );
        assert_eq!(decode_component("a+b%2"), "a+b%2");
        assert_eq!(decode_component("%zz%41"), "%zzA");
    }

    #[test]
    fn queries_decode_like_php() {
        assert_eq!(
            query_param("search=email%3A%22%2Ba%40b.c%22&x=1", "search").as_deref(),
            Some("email:\"+a@b.c\"")
        );
        assert_eq!(query_param("q=a+b%2", "q").as_deref(), Some("a b%2"));
        assert_eq!(query_param("q=%", "q").as_deref(), Some("%"));
        assert_eq!(query_param("q", "q").as_deref(), Some(""));
        assert_eq!(
            query_pairs("tags[]=a&&tags%5B%5D=-b"),
            [
                ("tags[]".into(), "a".into()),
                ("tags[]".into(), "-b".into())
            ]
        );
    }
}
