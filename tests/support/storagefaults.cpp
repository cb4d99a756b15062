#include "storagefaults.h"

#include <QByteArray>
#include <QFile>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace parley::test {

namespace {

QString systemError(const char* what)
{
    return QStringLiteral("%1: %2").arg(
        QLatin1String(what), QString::fromLocal8Bit(strerror(errno)));
}

// Sets or clears the immutable flag of `path`. Empty on success, else why not.
QString setImmutable(const QString& path, bool on)
{
    const QByteArray name = QFile::encodeName(path);
    const int fd = ::open(name.constData(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return systemError("open");
    }
    int flags = 0;
    QString error;
    if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
        error = systemError("FS_IOC_GETFLAGS");
    } else {
        flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
        if (::ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0) {
            error = systemError("FS_IOC_SETFLAGS (the immutable flag)");
        }
    }
    ::close(fd);
    return error;
}

} // namespace

UnwritableFile::UnwritableFile(QString path)
    : m_path(std::move(path))
{
    const QByteArray name = QFile::encodeName(m_path);
    if (::geteuid() == 0) {
        // File modes do not stop root; the immutable flag does.
        m_error = setImmutable(m_path, true);
        m_immutable = m_error.isEmpty();
        m_active = m_immutable;
        return;
    }
    struct stat info { };
    if (::stat(name.constData(), &info) != 0) {
        m_error = systemError("stat");
        return;
    }
    m_mode = unsigned(info.st_mode & 07777);
    if (::chmod(name.constData(), m_mode & ~unsigned(0222)) != 0) {
        m_error = systemError("chmod");
        return;
    }
    m_active = true;
}

UnwritableFile::~UnwritableFile()
{
    if (!m_active) {
        return;
    }
    if (m_immutable) {
        setImmutable(m_path, false);
    } else {
        ::chmod(QFile::encodeName(m_path).constData(), m_mode);
    }
}

SmallDisk::SmallDisk(qint64 bytes)
    : m_bytes(bytes)
{
    if (!m_dir.isValid()) {
        m_error = QStringLiteral("no temporary directory: %1").arg(m_dir.errorString());
        return;
    }
    const QByteArray target = QFile::encodeName(m_dir.path());
    const QByteArray options = "size=" + QByteArray::number(bytes) + ",mode=0755";
    if (::mount("tmpfs", target.constData(), "tmpfs", MS_NOSUID | MS_NODEV, options.constData())
        != 0) {
        m_error = systemError("mount -t tmpfs (needs CAP_SYS_ADMIN)");
        return;
    }
    m_mounted = true;
}

SmallDisk::~SmallDisk()
{
    if (m_mounted) {
        ::umount2(QFile::encodeName(m_dir.path()).constData(), MNT_DETACH);
    }
}

bool SmallDisk::fill()
{
    const QByteArray name = QFile::encodeName(m_dir.path() + QStringLiteral("/filler"));
    const int fd = ::open(name.constData(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        m_error = systemError("open filler");
        return false;
    }
    // Big chunks first, then smaller ones down to single bytes, so not even a part of a page
    // stays free.
    const QByteArray chunk(64 * 1024, 'x');
    for (std::size_t size = std::size_t(chunk.size()); size >= 1; size /= 16) {
        for (;;) {
            if (::write(fd, chunk.constData(), size) >= 0) {
                continue;
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno != ENOSPC) {
                m_error = systemError("write filler");
                ::close(fd);
                return false;
            }
            break;
        }
    }
    ::fsync(fd);
    ::close(fd);
    return true;
}

bool SmallDisk::drain()
{
    const QByteArray name = QFile::encodeName(m_dir.path() + QStringLiteral("/filler"));
    if (::unlink(name.constData()) != 0 && errno != ENOENT) {
        m_error = systemError("unlink filler");
        return false;
    }
    return true;
}

bool SmallDisk::setReadOnly(bool readOnly)
{
    const QByteArray target = QFile::encodeName(m_dir.path());
    const QByteArray options = "size=" + QByteArray::number(m_bytes) + ",mode=0755";
    const unsigned long flags = MS_REMOUNT | MS_NOSUID | MS_NODEV | (readOnly ? MS_RDONLY : 0);
    if (::mount("tmpfs", target.constData(), "tmpfs", flags, options.constData()) != 0) {
        m_error = systemError("remount");
        return false;
    }
    return true;
}

} // namespace parley::test
