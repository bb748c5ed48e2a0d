//! The user registry (`/api/reports/user-registry`): which users are service accounts or site
//! admins.

use std::collections::HashMap;

use crate::error::{Error, ErrorKind};
use crate::table::{Data, Table};

/// The user registry: flags by `Instance user ID`.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// Bit 0: service account; bit 1: site admin.
    flags: HashMap<String, u8>,
}

impl Registry {
    /// Parses the registry CSV: `Instance user ID`, `Service Account`, `Site Admin` (`true`/`false`;
    /// headers matched like the export's). Rows without an ID are skipped.
    pub fn from_bytes(data: &[u8]) -> Result<Registry, Error> {
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(data);
        let headers = reader
            .byte_headers()
            .map_err(|e| Error::new(ErrorKind::Input, format!("user registry: {e}")))?
            .clone();
        let norm = |h: &[u8]| crate::schema::normalize_header(&String::from_utf8_lossy(h));
        let find = |name: &str| headers.iter().position(|h| norm(h) == name);
        let (Some(id), service, admin) = (
            find("instance user id"),
            find("service account"),
            find("site admin"),
        ) else {
            return Err(Error::new(
                ErrorKind::Input,
                "user registry: expected an \"Instance user ID\" column",
            ));
        };
        let truthy = |v: Option<&[u8]>| {
            v.map(|v| {
                let v = v.trim_ascii();
                [&b"true"[..], b"yes", b"y", b"t", b"1"]
                    .iter()
                    .any(|t| v.eq_ignore_ascii_case(t))
            })
            .unwrap_or(false)
        };
        let mut flags = HashMap::new();
        for (n, record) in reader.byte_records().enumerate() {
            let record = record.map_err(|e| {
                Error::new(
                    ErrorKind::Input,
                    format!("user registry, record {}: {e}", n + 1),
                )
            })?;
            let Some(user) = record.get(id) else { continue };
            let user = String::from_utf8_lossy(user).trim().to_string();
            if user.is_empty() {
                continue;
            }
            let f = u8::from(truthy(service.and_then(|i| record.get(i))))
                | (u8::from(truthy(admin.and_then(|i| record.get(i)))) << 1);
            flags.insert(user, f);
        }
        Ok(Registry { flags })
    }

    /// Users in the registry.
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    /// Whether the registry lists no user.
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// How many users are service accounts.
    pub fn service_accounts(&self) -> usize {
        self.flags.values().filter(|&&f| f & 1 != 0).count()
    }

    /// Every user ID the registry lists, with its flags (bit 0 service account, bit 1 site admin).
    pub(crate) fn users(&self) -> impl Iterator<Item = (&str, u8)> {
        self.flags.iter().map(|(id, &f)| (id.as_str(), f))
    }

    pub(crate) fn flags(&self, id: &str) -> Option<u8> {
        self.flags.get(id).copied()
    }
}

impl Table {
    /// Joins a user registry: service accounts can then be excluded by the filter
    /// (`excludeServiceAccounts`) and site admins are marked in groups by user. Users are matched
    /// by `Instance user ID`; returns how many of the report's users the registry knows.
    pub fn join_registry(&mut self, registry: &Registry) -> usize {
        let Some(Data::Text(ids)) = self.user_id.map(|i| &self.columns[i].data) else {
            return 0;
        };
        let mut known = 0;
        let flags = ids
            .values
            .iter()
            .map(|id| match registry.flags(id) {
                Some(f) => {
                    known += 1;
                    f
                }
                None => 0,
            })
            .collect();
        self.user_flags = Some(flags);
        known
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flags_by_user_id() {
        let r = Registry::from_bytes(
            b"Instance user ID,Service Account,Site Admin\n1,false,true\n2,TRUE,false\n,true,true\n",
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r.flags("1"), Some(2));
        assert_eq!(r.flags("2"), Some(1));
        assert_eq!(r.service_accounts(), 1);
        assert!(Registry::from_bytes(b"a,b\n1,2\n").is_err());
    }
}
