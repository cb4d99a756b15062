// EventSourceParser: the WHATWG "text/event-stream" interpretation rules (HTML Living Standard,
// 9.2.6), fed bytes in arbitrary chunks, handing out dispatched events.
//
// Socket-free and Qt-light so it is tested with tables (tests/unit/sdk/eventsourceparser_test).
// Covers: a leading UTF-8 BOM, lines ended by CRLF, LF or CR (a CR at the end of one chunk and
// the LF at the start of the next count as one line end), comments (":" lines), the fields
// event, data (multi-line: joined with LF), id (ignored when it contains NUL; persists across
// events as the last event ID), retry (only all-digit values) and unknown fields (ignored), a
// single space after the colon stripped, a line without a colon as a field with an empty value,
// and no dispatch for events without data. Bounded: a line longer than maxLineBytes is an error.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <optional>

namespace parley {

class EventSourceParser {
public:
    struct Event {
        QByteArray type; //!< "message" when the stream gave no event field
        QByteArray data; //!< data lines joined with LF, without the final LF
        QByteArray lastEventId; //!< the last event ID at dispatch time
        bool operator==(const Event&) const = default;
    };

    explicit EventSourceParser(qsizetype maxLineBytes = 1024 * 1024);

    //! Feeds bytes; returns the events completed by them, in order. After an error (a line past
    //! the bound) nothing more is parsed.
    QList<Event> feed(QByteArrayView bytes);
    //! The last event ID (what a reconnect sends as Last-Event-ID).
    const QByteArray& lastEventId() const { return m_lastEventId; }
    //! The last valid `retry:` value in milliseconds.
    std::optional<int> retryMs() const { return m_retryMs; }
    bool hasError() const { return m_error; }

private:
    void processLine(QByteArrayView line, QList<Event>& out);

    qsizetype m_maxLineBytes;
    QByteArray m_line;
    QByteArray m_data;
    QByteArray m_type;
    QByteArray m_lastEventId;
    std::optional<int> m_retryMs;
    bool m_started = false; // BOM check done
    bool m_afterCr = false; // the previous byte was a CR: an LF now ends nothing
    bool m_error = false;
};

} // namespace parley
