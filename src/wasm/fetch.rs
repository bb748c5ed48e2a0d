//! The browser's transport for the core's fetch session ([`FetchSession`]): it sends the requests
//! the session asks for with `fetch` (gloo-net), hands it each body chunk as it arrives, waits
//! when it says so, and passes its progress on. Every rule (retries, redirects, HTML and cut
//! bodies, windows, limits, stalls) is the session's; the JS functions are in `fetch_api.rs`.
//!
//! gloo-net turns a rejected `fetch` into its error with `unreachable!()` when the rejection is not
//! an `Error`, which is what a caller's `controller.abort("some reason")` would produce: so the
//! caller's signal never reaches a request. Each call has an internal `AbortController` whose
//! signal the requests carry, aborted (with its default reason, an `Error`) when the caller's
//! fires. Bodies are read with a BYOB reader into one reused buffer when the stream allows, never
//! as one string. `fetch` and `setTimeout` are the global scope's: the module works on the main
//! thread and in workers alike.

use gloo_net::http::{Method, Request, RequestBuilder};
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, AbortSignal, Headers, ReadableStream, ReadableStreamDefaultReader,
    ReferrerPolicy, RequestCache, RequestCredentials, RequestMode, RequestRedirect, Response,
};

use crate::fetch::{Failure, FetchCode, FetchError, FetchSession, Fetched, Head, Step};

/// The requests' own `AbortController`, aborted when the caller's signal fires.
pub(super) struct AbortLink {
    controller: AbortController,
    caller: Option<AbortSignal>,
    on_abort: Option<Closure<dyn FnMut()>>,
}

impl AbortLink {
    pub(super) fn new(caller: Option<AbortSignal>) -> Result<AbortLink, FetchError> {
        let controller = AbortController::new().map_err(|_| {
            FetchError::new(
                FetchCode::InvalidOptions,
                "this browser has no AbortController: the fetch cannot be made cancellable",
            )
        })?;
        let mut link = AbortLink {
            controller,
            caller,
            on_abort: None,
        };
        if let Some(signal) = &link.caller {
            if signal.aborted() {
                link.controller.abort();
            } else {
                let controller = link.controller.clone();
                let on_abort = Closure::<dyn FnMut()>::new(move || controller.abort());
                let _ = signal
                    .add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
                link.on_abort = Some(on_abort);
            }
        }
        Ok(link)
    }

    pub(super) fn aborted(&self) -> bool {
        self.caller.as_ref().is_some_and(AbortSignal::aborted)
    }
}

impl Drop for AbortLink {
    fn drop(&mut self) {
        if let (Some(signal), Some(on_abort)) = (&self.caller, &self.on_abort) {
            let _ = signal
                .remove_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
        }
    }
}

/// Carries the session's requests and bodies until it is done.
pub(super) async fn drive(
    mut session: FetchSession,
    link: &AbortLink,
    on_progress: Option<&Function>,
) -> Result<Fetched, FetchError> {
    let mut response: Option<Response> = None;
    let mut reader: Option<BodyReader> = None;
    let mut chunk = ReadBuffer::default();
    loop {
        if link.aborted() {
            drop_body(&mut reader, &mut response).await;
            return Err(FetchError::aborted());
        }
        let now = js_sys::Date::now();
        match session.poll(now) {
            Step::Send(request) => {
                drop_body(&mut reader, &mut response).await;
                let sent = build_request(link, &request)?.send().await;
                let now = js_sys::Date::now();
                match sent {
                    Ok(r) => {
                        let r: Response = r.into();
                        let head = Head::with_headers(r.status(), |name| {
                            r.headers().get(name).ok().flatten()
                        });
                        session.response(head, now);
                        response = Some(r);
                    }
                    Err(_) if link.aborted() => return Err(FetchError::aborted()),
                    Err(_) => session.failed(Failure::Unreachable(None), now),
                }
            }
            Step::Read { until_ms } => {
                if reader.is_none() {
                    match response.as_ref().and_then(Response::body) {
                        None => {
                            session.end(now);
                            continue;
                        }
                        Some(body) => reader = BodyReader::new(&body).ok(),
                    }
                }
                let Some(r) = reader.as_mut() else {
                    session.failed(Failure::Broken, now);
                    continue;
                };
                let read = r.read(&mut chunk, until_ms - now).await;
                let now = js_sys::Date::now();
                match read {
                    Ok(Some(true)) => {
                        session.chunk(chunk.bytes(), now);
                        chunk.clear();
                    }
                    Ok(Some(false)) => session.failed(Failure::TimedOut, now),
                    Ok(None) => session.end(now),
                    Err(_) if link.aborted() => {
                        drop_body(&mut reader, &mut response).await;
                        return Err(FetchError::aborted());
                    }
                    Err(_) => session.failed(Failure::Broken, now),
                }
            }
            Step::Wait { ms, .. } => {
                drop_body(&mut reader, &mut response).await;
                sleep(ms, link.caller.as_ref()).await?;
            }
            Step::Progress(p) => {
                if let Some(callback) = on_progress {
                    let o = Object::new();
                    let set = |k: &str, v: f64| {
                        let _ = Reflect::set(&o, &k.into(), &v.into());
                    };
                    set("bytes", p.bytes as f64);
                    set("rows", p.rows as f64);
                    if let Some((i, n)) = p.window {
                        set("window", i as f64);
                        set("windows", n as f64);
                    }
                    // A throwing progress callback is the page's bug; it must not stop a fetch.
                    let _ = callback.call1(&JsValue::UNDEFINED, &o);
                }
            }
            Step::Done => {
                drop_body(&mut reader, &mut response).await;
                return session.finish();
            }
        }
    }
}

/// A GET with the token in the `Authorization` header only, and no redirects, cookies, referrer
/// or cache.
fn build_request(link: &AbortLink, request: &crate::fetch::Request) -> Result<Request, FetchError> {
    let broken = || {
        FetchError::new(
            FetchCode::InvalidOptions,
            "the request could not be built: check the API base URL",
        )
    };
    let headers = Headers::new().map_err(|_| broken())?;
    for (name, value) in &request.headers {
        headers.set(name, value).map_err(|_| {
            FetchError::new(
                FetchCode::InvalidOptions,
                "the token cannot be sent in an HTTP header: paste it again",
            )
        })?;
    }
    RequestBuilder::new(&request.url)
        .method(Method::GET)
        .headers(gloo_net::http::Headers::from_raw(headers))
        .mode(RequestMode::Cors)
        // A redirect could carry the token to another origin: refuse it.
        .redirect(RequestRedirect::Error)
        .credentials(RequestCredentials::Omit)
        .referrer_policy(ReferrerPolicy::NoReferrer)
        // Exports hold personal data: keep them out of the HTTP cache.
        .cache(RequestCache::NoStore)
        .abort_signal(Some(&link.controller.signal()))
        .build()
        .map_err(|_| broken())
}

/// Drops the answer in flight (before a retry, at the end), freeing the connection.
async fn drop_body(reader: &mut Option<BodyReader>, response: &mut Option<Response>) {
    match (reader.take(), response.take()) {
        (Some(reader), _) => reader.cancel().await,
        (None, Some(response)) => {
            if let Some(body) = response.body() {
                let _ = JsFuture::from(body.cancel()).await;
            }
        }
        (None, None) => {}
    }
}

/// The buffer a byte stream is read into (see [`BodyReader`]), handed back and forth.
const READ_BUFFER: u32 = 1 << 20;

#[wasm_bindgen]
extern "C" {
    /// What a stream reader's `read()` resolves to.
    type ReadResult;
    #[wasm_bindgen(method, getter)]
    fn done(this: &ReadResult) -> Option<bool>;
    #[wasm_bindgen(method, getter)]
    fn value(this: &ReadResult) -> JsValue;

    /// A `ReadableStreamBYOBReader`.
    #[wasm_bindgen(extends = Object)]
    type ByobReader;
    #[wasm_bindgen(method, js_name = read)]
    fn read_into(this: &ByobReader, view: &Uint8Array) -> Promise;
    #[wasm_bindgen(method)]
    fn cancel(this: &ByobReader) -> Promise;
}

/// Reads a body. A byte stream (a fetch body in current browsers) is read into one buffer of
/// ours that each read hands back (BYOB), so the browser allocates no new buffer per network
/// chunk; any other stream with the default reader. A read that outlasts its deadline is kept
/// and awaited again by the next one.
struct BodyReader {
    kind: ReaderKind,
    pending: Option<Promise>,
}

enum ReaderKind {
    Byob {
        reader: ByobReader,
        /// The buffer to read into next (`None` until the first read).
        buffer: Option<js_sys::ArrayBuffer>,
    },
    Default(ReadableStreamDefaultReader),
}

impl BodyReader {
    fn new(body: &ReadableStream) -> Result<BodyReader, JsValue> {
        let options = Object::new();
        Reflect::set(&options, &"mode".into(), &"byob".into())?;
        // `getReader({mode: "byob"})` throws when the body is not a byte stream.
        let get_reader: Function = Reflect::get(body, &"getReader".into())?.dyn_into()?;
        let kind = match get_reader.call1(body, &options) {
            Ok(reader) => ReaderKind::Byob {
                reader: reader.unchecked_into(),
                buffer: None,
            },
            Err(_) => ReaderKind::Default(ReadableStreamDefaultReader::new(body)?),
        };
        Ok(BodyReader {
            kind,
            pending: None,
        })
    }

    /// Appends the next chunk to `out` (copied once, into the module's memory): `Some(true)`,
    /// `Some(false)` when nothing came within `wait_ms`, `None` at the body's end, `Err` when the
    /// stream failed (the connection was lost, or the signal aborted it).
    async fn read(&mut self, out: &mut ReadBuffer, wait_ms: f64) -> Result<Option<bool>, JsValue> {
        let read = match self.pending.take() {
            Some(read) => read,
            None => match &mut self.kind {
                ReaderKind::Byob { reader, buffer } => {
                    let view = match buffer.take() {
                        Some(buffer) => Uint8Array::new(&buffer),
                        None => Uint8Array::new_with_length(READ_BUFFER),
                    };
                    reader.read_into(&view)
                }
                ReaderKind::Default(reader) => reader.read(),
            },
        };
        let (timer, _, id) = timer(wait_ms.max(0.0)).map_err(|e| JsValue::from(e.message))?;
        let raced = JsFuture::from(Promise::race(&js_sys::Array::of2(&read, &timer))).await;
        clear_timer(id);
        let raced = raced?;
        if raced.is_undefined() {
            // The timer won: the read goes on, for the next call.
            self.pending = Some(read);
            return Ok(Some(false));
        }
        let result: ReadResult = raced.unchecked_into();
        if result.done().unwrap_or(true) {
            return Ok(None);
        }
        let value: Uint8Array = result.value().dyn_into()?;
        out.append(&value);
        if let ReaderKind::Byob { buffer, .. } = &mut self.kind {
            // The read took our buffer and gives it back inside `value`.
            *buffer = Some(value.buffer());
        }
        Ok(Some(true))
    }

    /// Stops a body's download; the stream may already have failed, which is fine.
    async fn cancel(self) {
        let promise = match &self.kind {
            ReaderKind::Byob { reader, .. } => reader.cancel(),
            ReaderKind::Default(reader) => reader.cancel(),
        };
        let _ = JsFuture::from(promise).await;
    }
}

/// Where what is read is copied: a buffer of the module's memory, filled from the start and
/// reused, so the bytes are copied in without zeroing its room first each time.
#[derive(Default)]
struct ReadBuffer {
    buffer: Vec<u8>,
    len: usize,
}

impl ReadBuffer {
    fn append(&mut self, chunk: &Uint8Array) {
        let end = self.len + chunk.length() as usize;
        if self.buffer.len() < end {
            self.buffer.resize(end.max(READ_BUFFER as usize), 0);
        }
        chunk.copy_to(&mut self.buffer[self.len..end]);
        self.len = end;
    }

    fn bytes(&self) -> &[u8] {
        &self.buffer[..self.len]
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// A promise that resolves to `undefined` after `ms`, its `resolve` and its timer's id.
/// `setTimeout` is looked up on the global object, so this works on the main thread and in
/// workers.
fn timer(ms: f64) -> Result<(Promise, Function, JsValue), FetchError> {
    let no_timer = || {
        FetchError::new(
            FetchCode::Network,
            "this JavaScript environment has no setTimeout",
        )
    };
    let global = js_sys::global();
    let set_timeout: Function = Reflect::get(&global, &"setTimeout".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(no_timer)?;
    let mut resolve = None;
    let promise = Promise::new(&mut |res, _reject| resolve = Some(res));
    let resolve = resolve.ok_or_else(no_timer)?;
    let id = set_timeout
        .call2(&global, &resolve, &ms.into())
        .map_err(|_| no_timer())?;
    Ok((promise, resolve, id))
}

fn clear_timer(id: JsValue) {
    let global = js_sys::global();
    if let Some(clear) = Reflect::get(&global, &"clearTimeout".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
    {
        let _ = clear.call1(&global, &id);
    }
}

/// Waits `ms`, or less if the signal fires (then fails with `Aborted`). The promise's own
/// `resolve` serves as both the timer callback and the abort listener, so no Rust closure
/// outlives the wait.
async fn sleep(ms: f64, signal: Option<&AbortSignal>) -> Result<(), FetchError> {
    if signal.is_some_and(AbortSignal::aborted) {
        return Err(FetchError::aborted());
    }
    let (promise, resolve, id) = timer(ms)?;
    if let Some(signal) = signal {
        let _ = signal.add_event_listener_with_callback("abort", &resolve);
    }
    let _ = JsFuture::from(promise).await;
    if let Some(signal) = signal {
        let _ = signal.remove_event_listener_with_callback("abort", &resolve);
    }
    clear_timer(id);
    if signal.is_some_and(AbortSignal::aborted) {
        return Err(FetchError::aborted());
    }
    Ok(())
}
