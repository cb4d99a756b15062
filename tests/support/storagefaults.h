// Storage faults for tests: a database file nobody may write, a disk that is full or read-only.
//
// Tests run as root here, and root ignores file modes: chmod cannot make a file read-only for it.
// What stops root too:
// - UnwritableFile: the immutable flag (chattr +i, FS_IOC_SETFLAGS) when this process may set it
//   (CAP_LINUX_IMMUTABLE; ext4, tmpfs, xfs, btrfs); for a non-root user, the mode bits (0444).
// - SmallDisk: a tmpfs of a few hundred KiB mounted on a temporary directory (CAP_SYS_ADMIN):
//   fill() takes every free byte (writes then fail with ENOSPC, "database or disk is full"),
//   drain() gives them back, setReadOnly() remounts it read-only (EROFS).
// When the machine does not allow a mechanism, the object says why (error()); the tests skip
// with that reason. Both undo what they did when they go out of scope (a temporary directory
// with an immutable file or a mount in it could not be removed otherwise).
#pragma once

#include <QString>
#include <QTemporaryDir>

namespace parley::test {

class UnwritableFile {
public:
    //! Makes the existing file `path` unwritable for this process (see above).
    explicit UnwritableFile(QString path);
    //! Makes it writable again.
    ~UnwritableFile();
    UnwritableFile(const UnwritableFile&) = delete;
    UnwritableFile& operator=(const UnwritableFile&) = delete;

    //! True when the file is unwritable now; else error() says why not.
    bool isActive() const { return m_active; }
    QString error() const { return m_error; }

private:
    QString m_path;
    bool m_immutable = false; // the flag was set (else the mode was changed)
    unsigned m_mode = 0;
    bool m_active = false;
    QString m_error;
};

class SmallDisk {
public:
    //! Mounts a tmpfs of `bytes` (rounded up to pages by the kernel) on a new temporary directory.
    explicit SmallDisk(qint64 bytes = 512 * 1024);
    //! Unmounts it (lazily, so a process still using it does not keep it busy).
    ~SmallDisk();
    SmallDisk(const SmallDisk&) = delete;
    SmallDisk& operator=(const SmallDisk&) = delete;

    bool isMounted() const { return m_mounted; }
    QString error() const { return m_error; }
    //! The mount point.
    QString path() const { return m_dir.path(); }

    //! Writes a filler file until the disk has no free byte left. False when it could not.
    bool fill();
    //! Removes the filler: the disk has room again.
    bool drain();
    //! Remounts read-only (or read-write again). Fails (false) while a process has a file on it
    //! open for writing, as the kernel refuses such a remount.
    bool setReadOnly(bool readOnly);

private:
    QTemporaryDir m_dir;
    qint64 m_bytes;
    bool m_mounted = false;
    QString m_error;
};

} // namespace parley::test
