//! The running simulator's upload sessions. A session's stored parts are the one truth its
//! listing is made from; requests are counted here, per session, to pick the fault that hits
//! each one.

use crate::faults::{Action, Fault};
use crate::model::{LinkStyle, SimPart, Upload};
use std::collections::HashMap;

pub(crate) struct Session {
    pub id: String,
    pub owner: String,
    pub links: LinkStyle,
    /// The stored parts, in the order they are listed.
    pub parts: Vec<SimPart>,
    faults: Vec<Fault>,
    /// Part listings received so far: the number of the next one, less one.
    listings: u32,
}

impl Session {
    fn from_upload(upload: &Upload) -> Session {
        Session {
            id: upload.id.clone(),
            owner: upload.owner.clone(),
            links: upload.links,
            parts: upload.described_parts(),
            faults: upload.faults.clone(),
            listings: 0,
        }
    }

    /// Counts a part listing and returns the action of the first fault that matches it.
    pub fn count_listing(&mut self) -> Option<Action> {
        self.listings += 1;
        let n = self.listings;
        self.faults.iter().find(|f| f.when.matches(n)).map(|f| f.action.clone())
    }
}

/// Every session, by ID.
pub(crate) struct Sessions {
    all: Vec<Session>,
    by_id: HashMap<String, usize>,
}

impl Sessions {
    /// The sessions `uploads` describe; of two with one ID, the first is served.
    pub fn new(uploads: &[Upload]) -> Sessions {
        let mut sessions = Sessions { all: Vec::new(), by_id: HashMap::new() };
        for upload in uploads {
            if !sessions.by_id.contains_key(&upload.id) {
                sessions.by_id.insert(upload.id.clone(), sessions.all.len());
                sessions.all.push(Session::from_upload(upload));
            }
        }
        sessions
    }

    pub fn get(&self, id: &str) -> Option<&Session> {
        self.by_id.get(id).map(|&i| &self.all[i])
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Session> {
        self.by_id.get(id).map(|&i| &mut self.all[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::When;

    #[test]
    fn listings_are_counted_per_session_for_faults() {
        let a = Upload::new("a", "o", 2).fault(When::Request(2), Action::Close);
        let mut sessions = Sessions::new(&[a, Upload::new("b", "o", 1), Upload::new("a", "other", 9)]);
        assert_eq!(sessions.get("a").unwrap().parts.len(), 2, "the first session of an ID is served");
        assert!(sessions.get_mut("a").unwrap().count_listing().is_none());
        assert!(sessions.get_mut("b").unwrap().count_listing().is_none());
        assert!(matches!(sessions.get_mut("a").unwrap().count_listing(), Some(Action::Close)));
        assert!(sessions.get_mut("a").unwrap().count_listing().is_none());
        assert!(sessions.get("c").is_none());
    }
}
