#include "eventsourceparser.h"

namespace parley {

EventSourceParser::EventSourceParser(qsizetype maxLineBytes)
    : m_maxLineBytes(maxLineBytes)
{
}

QList<EventSourceParser::Event> EventSourceParser::feed(QByteArrayView bytes)
{
    QList<Event> out;
    if (m_error) {
        return out;
    }
    if (!m_started) {
        // The BOM may itself arrive split: wait until three bytes are seen.
        m_line += bytes.toByteArray();
        if (m_line.size() < 3 && QByteArrayView("\xEF\xBB\xBF").startsWith(m_line)) {
            return out;
        }
        m_started = true;
        QByteArray pending = std::move(m_line);
        m_line.clear();
        if (pending.startsWith("\xEF\xBB\xBF")) {
            pending.remove(0, 3);
        }
        return feed(pending);
    }
    qsizetype start = 0;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        if (c == '\n' && m_afterCr) {
            m_afterCr = false;
            start = i + 1;
            continue;
        }
        m_afterCr = false;
        if (c == '\r' || c == '\n') {
            m_afterCr = c == '\r';
            if (m_line.isEmpty()) {
                processLine(bytes.sliced(start, i - start), out);
            } else {
                m_line += bytes.sliced(start, i - start);
                processLine(m_line, out);
                m_line.clear();
            }
            start = i + 1;
        }
    }
    m_line += bytes.sliced(start);
    if (m_line.size() > m_maxLineBytes) {
        m_error = true;
        m_line.clear();
    }
    return out;
}

void EventSourceParser::processLine(QByteArrayView line, QList<Event>& out)
{
    if (line.size() > m_maxLineBytes) {
        m_error = true;
        return;
    }
    if (line.isEmpty()) {
        // Dispatch.
        if (m_data.isEmpty()) {
            m_type.clear();
            return;
        }
        if (m_data.endsWith('\n')) {
            m_data.chop(1);
        }
        out.push_back(
            Event { m_type.isEmpty() ? QByteArray("message") : m_type, m_data, m_lastEventId });
        m_data.clear();
        m_type.clear();
        return;
    }
    if (line.front() == ':') {
        return; // comment (keep-alive)
    }
    QByteArrayView field = line;
    QByteArrayView value;
    if (const qsizetype colon = line.indexOf(':'); colon >= 0) {
        field = line.first(colon);
        value = line.sliced(colon + 1);
        if (!value.isEmpty() && value.front() == ' ') {
            value = value.sliced(1);
        }
    }
    if (field == "event") {
        m_type = value.toByteArray();
    } else if (field == "data") {
        m_data += value;
        m_data += '\n';
    } else if (field == "id") {
        if (!value.contains('\0')) {
            m_lastEventId = value.toByteArray();
        }
    } else if (field == "retry") {
        bool digits = !value.isEmpty();
        for (char c : value) {
            digits = digits && c >= '0' && c <= '9';
        }
        if (digits) {
            bool ok = false;
            const int ms = value.toInt(&ok);
            if (ok) {
                m_retryMs = ms;
            }
        }
    }
}

} // namespace parley
