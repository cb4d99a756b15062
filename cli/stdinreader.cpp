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
        QMetaObject::invokeMethod(
            this, [this] { end(); }, Qt::QueuedConnection);
        return;
    }
    m_notifier = new QSocketNotifier(STDIN_FILENO, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, [this] { readAvailable(); });
}

void StdinReader::readAvailable()
{
    // The notifier said readable: one read() returns what is there without blocking.
    char chunk[64 * 1024];
    const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n > 0) {
        m_buffer.append(chunk, qsizetype(n));
        emitLines();
        return;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return;
    }
    // End of input (or an error): the last line may lack its newline.
    if (!m_buffer.isEmpty()) {
        m_buffer.append('\n');
        emitLines();
    }
    end();
}

void StdinReader::emitLines()
{
    qsizetype start = 0;
    for (qsizetype nl = m_buffer.indexOf('\n'); nl >= 0 && !m_done;
         nl = m_buffer.indexOf('\n', start)) {
        QByteArray line = m_buffer.mid(start, nl - start);
        if (line.endsWith('\r')) {
            line.chop(1);
        }
        start = nl + 1;
        Q_EMIT lineRead(QString::fromUtf8(line));
    }
    m_buffer.remove(0, start);
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
