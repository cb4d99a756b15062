// TextFrame: one server -> client text message, serialised once as the complete WebSocket frame
// (header + JSON). A fan-out builds it once and every recipient, on every I/O thread, shares the
// same bytes: copying a TextFrame only bumps an atomic reference count (QByteArray's implicit
// sharing), so the per-recipient cost is queueing a reference, not serialising or copying.
//
// The HTTP transports use payload(), the JSON alone.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <string>

namespace parley::server {

class TextFrame {
public:
    TextFrame() = default;

    //! Frames `json` (UTF-8, the caller's promise: it comes from our own encoder).
    static TextFrame fromUtf8(QByteArrayView json);
    static TextFrame fromUtf8(const std::string& json)
    {
        return fromUtf8(QByteArrayView(json.data(), qsizetype(json.size())));
    }

    bool isNull() const { return m_wire.isNull(); }
    //! The whole frame as written to a WebSocket.
    const QByteArray& wire() const { return m_wire; }
    //! The message text (UTF-8 JSON), without the frame header.
    QByteArrayView payload() const { return QByteArrayView(m_wire).sliced(m_headerSize); }

private:
    QByteArray m_wire;
    qsizetype m_headerSize = 0;
};

} // namespace parley::server
