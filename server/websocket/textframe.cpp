#include "textframe.h"

#include "framewriter.h"

namespace parley::server {

TextFrame TextFrame::fromUtf8(QByteArrayView json)
{
    TextFrame frame;
    char header[websocket::kMaxHeaderSize];
    const int headerSize
        = websocket::writeFrameHeader(header, websocket::Opcode::Text, quint64(json.size()));
    frame.m_wire.reserve(headerSize + json.size());
    frame.m_wire.append(header, headerSize);
    frame.m_wire.append(json.data(), json.size());
    frame.m_headerSize = headerSize;
    return frame;
}

} // namespace parley::server
