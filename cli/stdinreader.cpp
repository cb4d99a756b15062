#include "stdinreader.h"

#include <QSocketNotifier>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace parley::cli {

StdinReader::StdinReader(QObject* parent)
    : QObject(parent)
{
}

void StdinReader::start()
{
    if (::fcntl(STDIN_FILENO, F_GETFD) == -1) {
        // No stdin at all: report the end from the event loop, like any other end.
        m_atEnd = true;
        QMetaObject::invokeMethod(
            this, [this] { emitLines(); }, Qt::QueuedConnection);
        return;
    }
    m_notifier = new QSocketNotifier(STDIN_FILENO, QSocketNotifier::Read, this);
    m_notifier->setEnabled(!m_paused);
    connect(m_notifier, &QSocketNotifier::activated, this, [this] { readAvailable(); });
}

void StdinReader::pause()
{
    m_paused = true;
    if (m_notifier) {
        m_notifier->setEnabled(false);
    }
}

void StdinReader::resume()
{
    if (!m_paused || m_done) {
        return;
    }
    m_paused = false;
    if (m_resumeScheduled) {
        return;
    }
    m_resumeScheduled = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_resumeScheduled = false;
            emitLines();
        },
        Qt::QueuedConnection);
}

void StdinReader::readAvailable()
{
    if (m_paused || m_atEnd) {
        return;
    }
    // The notifier said readable: one read() returns what is there without blocking.
    char chunk[64 * 1024];
    const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return;
    }
    if (n > 0) {
        m_buffer.append(chunk, qsizetype(n));
    } else {
        // End of input (or an error): the last line may lack its newline.
        m_atEnd = true;
        m_notifier->setEnabled(false);
        if (m_buffer.size() > m_offset && !m_buffer.endsWith('\n')) {
            m_buffer.append('\n');
        }
    }
    emitLines();
}

void StdinReader::emitLines()
{
    while (!m_paused && !m_done) {
        const qsizetype nl = m_buffer.indexOf('\n', m_offset);
        if (nl < 0) {
            break;
        }
        QByteArray line = m_buffer.mid(m_offset, nl - m_offset);
        if (line.endsWith('\r')) {
            line.chop(1);
        }
        m_offset = nl + 1;
        Q_EMIT lineRead(++m_lines, QString::fromUtf8(line));
    }
    // Drop what was delivered (an offset, not a remove() per line: a paused reader hands out one
    // line per resume(), and a 64 KiB buffer of short lines would be copied once per line).
    if (m_offset == m_buffer.size() || m_offset > 64 * 1024) {
        m_buffer.remove(0, m_offset);
        m_offset = 0;
    }
    if (m_paused || m_done) {
        return;
    }
    if (m_atEnd) {
        end();
    } else if (m_notifier) {
        m_notifier->setEnabled(true);
    }
}

void StdinReader::end()
{
    if (m_done) {
        return;
    }
    m_done = true;
    if (m_notifier) {
        m_notifier->setEnabled(false);
    }
    Q_EMIT finished();
}

} // namespace parley::cli
