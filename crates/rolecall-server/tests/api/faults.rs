//! Storage faults on a real file system: the SQLite file on a small ext4
//! image of its own, loop-mounted, filled until the disk is full, or its
//! files made immutable so that every write is refused (`EPERM`, which
//! SQLite reports as a disk I/O error), while clients keep writing.
//!
//! What must hold: every write is either acknowledged and durable, or
//! refused with 503, `Retry-After` and a problem naming the cause; a second
//! process reading the same file sees every acknowledged write at the
//! revision it was acknowledged with, so no revision is issued twice; and
//! once the fault is gone, writes succeed again without a restart.
//!
//! Mounting needs root and loop devices. Without them the tests say so and
//! pass, except under `CI`, where they fail: CI must run them.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use rolecall_store::{Put, Store};
use serde_json::json;

use crate::helpers::{spawn_app_at, TestApp};
use crate::reply::Reply;

/// A small ext4 file system on a loop device, unmounted when dropped.
struct SmallDisk {
    _dir: tempfile::TempDir,
    mount: PathBuf,
}

impl SmallDisk {
    /// Makes and mounts an image of `mib` MiB; `None` (after saying why)
    /// where this machine cannot mount one, outside CI.
    fn mount(mib: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("disk.img");
        let mount = dir.path().join("mnt");
        std::fs::create_dir(&mount).unwrap();
        std::fs::File::create(&image)
            .unwrap()
            .set_len(u64::from(mib) << 20)
            .unwrap();
        // 4 KiB blocks, as on real disks: SQLite extends its shared-memory file
        // one byte per 4 KiB page, which allocates a whole page only then.
        let made = run(
            "mkfs.ext4",
            &["-q", "-F", "-b", "4096", image.to_str().unwrap()],
        )
        .and_then(|()| {
            run(
                "mount",
                &[
                    "-o",
                    "loop",
                    image.to_str().unwrap(),
                    mount.to_str().unwrap(),
                ],
            )
        });
        match made {
            Ok(()) => Some(SmallDisk { _dir: dir, mount }),
            Err(why) if std::env::var_os("CI").is_some() => {
                panic!("the fault tests must run in CI, but cannot mount a small disk: {why}")
            }
            Err(why) => {
                eprintln!("skipped: cannot mount a small disk here ({why}); run as root with loop devices");
                None
            }
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.mount.join(name)
    }

    /// Fills the disk to the last block with a file of its own.
    fn fill(&self) {
        let mut filler = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("filler"))
            .unwrap();
        for chunk in [1 << 16, 1 << 12, 1 << 9, 1] {
            let bytes = vec![0u8; chunk];
            while filler
                .write_all(&bytes)
                .and_then(|()| filler.sync_all())
                .is_ok()
            {}
        }
    }

    /// Frees what [`SmallDisk::fill`] took.
    fn free(&self) {
        std::fs::remove_file(self.path("filler")).unwrap();
    }

    /// Makes the database file and its log immutable: each write to them
    /// fails with `EPERM`, even on descriptors opened before. (Not the
    /// `-shm` file: SQLite maps it into memory, where a refused write is a
    /// SIGBUS that no program survives.)
    fn refuse_writes(&self) {
        for file in database_files(&self.mount) {
            run("chattr", &["+i", file.to_str().unwrap()]).unwrap();
        }
    }

    /// Undoes [`SmallDisk::refuse_writes`].
    fn allow_writes(&self) {
        for file in database_files(&self.mount) {
            run("chattr", &["-i", file.to_str().unwrap()]).unwrap();
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: the server of a failed test may still hold files open.
        let _ = run("umount", &["-l", self.mount.to_str().unwrap()]);
    }
}

fn database_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rolecall.db") && !n.ends_with("-shm"))
        })
        .collect()
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    match Command::new(program).args(args).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("{program}: {e}")),
    }
}

/// What the clients were told: acknowledged organizations by revision,
/// and every refusal with what `/readyz` said right after it.
#[derive(Default)]
struct Ledger {
    acknowledged: BTreeMap<i64, String>,
    refused: Vec<(Reply, u16)>,
}

impl Ledger {
    /// Sends `count` writes that each create an organization, noting each
    /// answer.
    async fn write(&mut self, app: &TestApp, prefix: &str, count: usize) {
        for i in 0..count {
            let id = format!("{prefix}-{i}");
            let reply = app
                .post_json(
                    &app.operator,
                    "/v1/orgs",
                    &json!({ "id": id, "name": format!("Clinic {id}") }),
                )
                .await;
            if reply.status == 201 {
                let revision = reply.revision();
                let earlier = self.acknowledged.insert(revision, id.clone());
                assert_eq!(earlier, None, "revision {revision} acknowledged twice");
            } else {
                let ready = app
                    .client
                    .get(format!("{}/readyz", app.address))
                    .send()
                    .await;
                self.refused.push((reply, ready.unwrap().status().as_u16()));
            }
        }
    }

    /// Every refusal was a 503 problem of the kind `refusal`, with
    /// `Retry-After`, and `/readyz` said not ready right after it.
    fn assert_refusals_clear(&self, refusal: &str) {
        for (reply, ready) in &self.refused {
            assert_eq!(
                reply.status, 503,
                "a write answered {}: {}",
                reply.status, reply.text
            );
            assert_eq!(reply.content_type(), "application/problem+json");
            assert_eq!(
                reply.body["type"],
                format!("https://rolecall.dev/problems/{refusal}"),
                "{}",
                reply.text
            );
            assert!(
                reply.headers.contains_key("retry-after"),
                "a 503 without Retry-After"
            );
            assert_eq!(*ready, 503, "ready right after a storage failure");
        }
    }

    /// Every acknowledged write is in the file, as a second process reads
    /// it, at the revision it was acknowledged with.
    async fn assert_durable(&self, app: &TestApp) {
        let other = Store::open(&app.database_url).await.unwrap();
        let head = other.head().await.unwrap();
        assert_eq!(
            head,
            app.service.revision(),
            "another process sees another revision"
        );
        let changes: BTreeMap<i64, Vec<Put>> =
            other.changes_since(0).await.unwrap().into_iter().collect();
        for (revision, id) in &self.acknowledged {
            let stored = changes.get(revision).unwrap_or_else(|| {
                panic!("acknowledged revision {revision} ({id}) is not in the change log")
            });
            assert!(
                stored
                    .iter()
                    .any(|put| matches!(put, Put::Org(org) if &org.id == id)),
                "revision {revision} was acknowledged for `{id}` but holds another change"
            );
        }
        let (model, _) = other.load().await.unwrap();
        for id in self.acknowledged.values() {
            assert!(model.orgs.contains_key(id), "acknowledged `{id}` is lost");
        }
        other.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_and_loses_no_acknowledged_one() {
    // Arrange
    let Some(disk) = SmallDisk::mount(8) else {
        return;
    };
    let app = spawn_app_at(&disk.path("rolecall.db")).await;
    app.create_org("acme", &[]).await;
    app.active_user("acme", "pat", json!({ "roles": ["web.office_staff"] }))
        .await;
    let mut ledger = Ledger::default();
    ledger.write(&app, "before", 3).await;
    assert!(ledger.refused.is_empty(), "refused with room on the disk");

    // Act: the disk fills up, and clients keep trying.
    disk.fill();
    ledger.write(&app, "full", 40).await;
    let refused_while_full = ledger.refused.len();
    let checked = app
        .check(&app.operator, "acme", "pat", "web.messages", false)
        .await;
    disk.free();
    ledger.write(&app, "after", 5).await;

    // Assert
    assert!(refused_while_full > 0, "the disk never filled up");
    ledger.assert_durable(&app).await;
    ledger.assert_refusals_clear("database-full");
    assert_eq!(
        checked["allowed"], true,
        "checks stopped answering from memory"
    );
    assert_eq!(
        ledger.refused.len(),
        refused_while_full,
        "refused once space was free"
    );
    app.assert_audit_intact().await;
    let ready = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await;
    assert_eq!(ready.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_refused_by_the_file_system_lose_no_acknowledged_one() {
    // Arrange
    let Some(disk) = SmallDisk::mount(8) else {
        return;
    };
    let app = spawn_app_at(&disk.path("rolecall.db")).await;
    let mut ledger = Ledger::default();
    ledger.write(&app, "before", 3).await;

    // Act: every write to the database's files fails with EPERM.
    disk.refuse_writes();
    ledger.write(&app, "refused", 20).await;
    let refused = ledger.refused.len();
    disk.allow_writes();
    ledger.write(&app, "after", 5).await;

    // Assert
    assert!(refused > 0, "the file system never refused a write");
    ledger.assert_durable(&app).await;
    ledger.assert_refusals_clear("database-unavailable");
    assert_eq!(
        ledger.refused.len(),
        refused,
        "refused once writes were allowed again"
    );
    app.assert_audit_intact().await;
}
