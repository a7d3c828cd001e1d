//! Name resolution once per handle. ureq resolves before every request, even one that reuses
//! a pooled connection, and with a timeout set it spawns a thread for each lookup; a listing
//! talks to one origin, so the first answer serves all its pages.

use std::sync::Mutex;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

#[derive(Debug, Default)]
pub struct CachingResolver {
    inner: DefaultResolver,
    /// The last "scheme://authority" resolved and its addresses.
    last: Mutex<Option<(String, ResolvedSocketAddrs)>>,
}

impl Resolver for CachingResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!("{}://{}", uri.scheme_str().unwrap_or(""), uri.authority().map_or("", |a| a.as_str()));
        if let Some((k, addrs)) = &*self.last.lock().unwrap_or_else(|e| e.into_inner()) {
            if *k == key {
                return Ok(addrs.clone());
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((key, addrs.clone()));
        Ok(addrs)
    }
}
