//! Dropping root after the sockets are bound (`user = "rootwalk"`,
//! `--user NAME`): the daemon binds port 53 (and its control socket) as
//! root, then becomes the named user with that user's primary group and
//! no supplementary groups, as Unbound's `username:` does.
//!
//! Order matters and every step is checked: supplementary groups first
//! (`setgroups`), then the group (`setgid`), then the user (`setuid`),
//! since after `setuid` the process may no longer change its groups.
//! Afterwards the real and effective ids are read back and a `setuid(0)`
//! must fail; otherwise the daemon refuses to go on. glibc and musl apply
//! `setuid`/`setgid` to every thread of the process, so the runtime's
//! threads started before the drop lose root too.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use super::error::ServeError;

/// Largest buffer tried for `getpwnam_r`'s strings; a passwd entry is a few
/// hundred bytes, so a bigger need means something is wrong.
pub const MAX_PASSWD_BUFFER: usize = 1 << 20;

/// A user to run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The name as given.
    pub name: String,
    /// Its user id.
    pub uid: u32,
    /// Its primary group id.
    pub gid: u32,
}

/// Looks `name` up in the password database.
pub fn lookup(name: &str) -> Result<Account, ServeError> {
    let unknown = || ServeError::UnknownUser {
        user: name.to_string(),
    };
    let c_name = CString::new(name).map_err(|_| unknown())?;
    let mut buffer = vec![0 as libc::c_char; 1024];
    loop {
        // SAFETY: `passwd` is plain old data that getpwnam_r fills in;
        // `buffer` outlives the call and its length is passed with it;
        // `result` is set to null or to `&mut passwd`.
        let mut passwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let code = unsafe {
            libc::getpwnam_r(
                c_name.as_ptr(),
                &mut passwd,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut result,
            )
        };
        if code == libc::ERANGE && buffer.len() < MAX_PASSWD_BUFFER {
            buffer.resize(buffer.len() * 4, 0);
            continue;
        }
        if code != 0 {
            return Err(ServeError::Privileges {
                user: name.to_string(),
                step: "getpwnam_r",
                source: std::io::Error::from_raw_os_error(code),
            });
        }
        if result.is_null() {
            return Err(unknown());
        }
        return Ok(Account {
            name: name.to_string(),
            uid: passwd.pw_uid,
            gid: passwd.pw_gid,
        });
    }
}

/// Fails with [`ServeError::NotRoot`] unless the process may switch to
/// `account` (it is root): checked before binding, so a daemon that
/// could never drop root stops at once.
pub fn require_root(account: &Account) -> Result<(), ServeError> {
    // SAFETY: geteuid takes nothing and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 {
        Ok(())
    } else {
        Err(ServeError::NotRoot {
            user: account.name.clone(),
            uid: euid,
        })
    }
}

/// Gives `paths` (the control socket) to `account`, so it can still be
/// removed by the daemon's user and opened by it. Needs root.
pub fn chown(paths: &[&Path], account: &Account) -> Result<(), ServeError> {
    for path in paths {
        let c_path =
            CString::new(path.as_os_str().as_bytes()).map_err(|_| ServeError::Privileges {
                user: account.name.clone(),
                step: "chown",
                source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
            })?;
        // SAFETY: a valid NUL-terminated path; ids are plain integers.
        let code = unsafe { libc::chown(c_path.as_ptr(), account.uid, account.gid) };
        check(code, account, "chown")?;
    }
    Ok(())
}

/// Becomes `account`: its primary group, no supplementary groups, its
/// user id, for real and effective ids. Fails with
/// [`ServeError::NotRoot`] when the process is not root, and with
/// [`ServeError::Privileges`] when any step fails or root could be
/// regained afterwards.
pub fn drop_to(account: &Account) -> Result<(), ServeError> {
    require_root(account)?;
    // SAFETY: these calls take and return plain integers (and one
    // pointer to a one-element array that outlives the call).
    unsafe {
        let groups = [account.gid];
        check(libc::setgroups(1, groups.as_ptr()), account, "setgroups")?;
        check(libc::setgid(account.gid), account, "setgid")?;
        check(libc::setuid(account.uid), account, "setuid")?;
        let dropped = libc::getuid() == account.uid
            && libc::geteuid() == account.uid
            && libc::getgid() == account.gid
            && libc::getegid() == account.gid;
        if !dropped || (account.uid != 0 && libc::setuid(0) == 0) {
            return Err(ServeError::Privileges {
                user: account.name.clone(),
                step: "verify",
                source: std::io::Error::other("root could be regained"),
            });
        }
    }
    Ok(())
}

/// The error of a libc call that returned `code`, if it failed.
fn check(code: libc::c_int, account: &Account, step: &'static str) -> Result<(), ServeError> {
    if code == 0 {
        Ok(())
    } else {
        Err(ServeError::Privileges {
            user: account.name.clone(),
            step,
            source: std::io::Error::last_os_error(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_found_and_nonsense_is_not() {
        let root = lookup("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert!(matches!(
            lookup("no-such-user-rootwalk"),
            Err(ServeError::UnknownUser { .. })
        ));
        assert!(matches!(
            lookup("a\0b"),
            Err(ServeError::UnknownUser { .. })
        ));
    }
}
