//! Name resolution, cached and stoppable. ureq resolves before every request, even one that
//! reuses a pooled connection; a listing talks to one origin and a client to a few, so an
//! answer serves every request to its origin for [`TTL`]. Clones share one cache, so one
//! client's agents and listings resolve each name once per TTL.
//!
//! A lookup of a name (not an IP literal) runs on a helper thread while the caller waits in
//! slices under the current request's interrupt and deadlines (src/net.rs): getaddrinfo cannot
//! be stopped, but the caller is never held by it. The thread ends when getaddrinfo does.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long an answer is used before the name is looked up again: a service that runs for
/// months follows DNS changes within this time.
pub(crate) const TTL: Duration = Duration::from_secs(60);
/// Origins remembered at once; more are unusual (one per Vault a client talks to).
const MAX_ENTRIES: usize = 64;

#[derive(Clone, Debug, Default)]
pub struct CachingResolver {
    /// "scheme://authority" -> when it was resolved and its addresses.
    cache: Arc<Mutex<HashMap<String, (Instant, ResolvedSocketAddrs)>>>,
}

impl CachingResolver {
    fn cached(&self, key: &str) -> Option<ResolvedSocketAddrs> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(key).filter(|(at, _)| at.elapsed() < TTL).map(|(_, addrs)| addrs.clone())
    }

    fn remember(&self, key: String, addrs: &ResolvedSocketAddrs) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.retain(|_, (at, _)| at.elapsed() < TTL);
        }
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), addrs.clone()));
    }
}

impl Resolver for CachingResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!("{}://{}", uri.scheme_str().unwrap_or(""), uri.authority().map_or("", |a| a.as_str()));
        if let Some(addrs) = self.cached(&key) {
            return Ok(addrs);
        }
        let addrs = lookup(uri, config, timeout)?;
        self.remember(key, &addrs);
        Ok(addrs)
    }
}

fn lookup(uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
    // Without a timeout ureq's resolver answers on this thread, at once for an IP literal.
    let now = NextTimeout::default();
    let host = uri.host().unwrap_or("");
    if host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok() {
        return DefaultResolver::default().resolve(uri, config, now);
    }
    let (uri, config) = (uri.clone(), config.clone());
    crate::net::run_beside(timeout, move || DefaultResolver::default().resolve(&uri, &config, now))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::Stop;
    use crate::net::{stop_of, RequestContext};

    fn resolve(r: &CachingResolver, url: &str) -> Result<Vec<String>, ureq::Error> {
        let addrs = r.resolve(&url.parse().unwrap(), &Config::default(), NextTimeout::default())?;
        Ok(addrs.iter().map(|a| a.to_string()).collect())
    }

    #[test]
    fn answers_are_shared_by_clones_and_kept_per_origin() {
        let r = CachingResolver::default();
        let a = resolve(&r, "http://127.0.0.1:1000/x").unwrap();
        assert_eq!(a, ["127.0.0.1:1000"]);
        let b = resolve(&r.clone(), "https://[::1]:2000/").unwrap();
        assert_eq!(b, ["[::1]:2000"]);
        assert_eq!(r.cache.lock().unwrap().len(), 2);
        assert_eq!(resolve(&r, "http://127.0.0.1:1000/y").unwrap(), a);
    }

    #[test]
    fn a_stale_answer_is_looked_up_again() {
        let r = CachingResolver::default();
        let key = "http://127.0.0.1:1000".to_owned();
        let mut stale = DefaultResolver::default().empty();
        stale.push("10.9.9.9:1000".parse().unwrap());
        r.cache.lock().unwrap().insert(key.clone(), (Instant::now() - TTL, stale.clone()));
        assert_eq!(resolve(&r, "http://127.0.0.1:1000/").unwrap(), ["127.0.0.1:1000"]);
        r.cache.lock().unwrap().insert(key, (Instant::now(), stale));
        assert_eq!(resolve(&r, "http://127.0.0.1:1000/").unwrap(), ["10.9.9.9:1000"]);
    }

    #[test]
    fn the_cache_stays_bounded() {
        let r = CachingResolver::default();
        for port in 1..=(3 * MAX_ENTRIES as u16) {
            resolve(&r, &format!("http://127.0.0.1:{port}/")).unwrap();
            assert!(r.cache.lock().unwrap().len() <= MAX_ENTRIES);
        }
    }

    #[test]
    fn a_name_lookup_runs_beside_the_caller_and_obeys_its_interrupt() {
        // "localhost" goes through getaddrinfo (answered from /etc/hosts, no network).
        let r = CachingResolver::default();
        let local = resolve(&r, "http://localhost:1000/").unwrap();
        assert!(!local.is_empty() && local.iter().all(|a| a == "127.0.0.1:1000" || a == "[::1]:1000"), "{local:?}");
        let ctx = RequestContext::default();
        ctx.stops.interrupt.interrupt();
        let error = ctx.run(|| resolve(&CachingResolver::default(), "http://localhost:1000/")).unwrap_err();
        assert_eq!(stop_of(&error), Some(Stop::Cancelled));
    }
}
