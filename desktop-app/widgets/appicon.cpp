#include "widgets/appicon.h"

#include <QPainter>
#include <QPainterPath>

namespace parley::desktop {

QImage AppIcon::render(int size)
{
    QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(size / 256.0, size / 256.0);

    // Background: a rounded square with a diagonal gradient.
    QLinearGradient bg(0, 0, 256, 256);
    bg.setColorAt(0, QColor(0x3d, 0x7e, 0xf0));
    bg.setColorAt(1, QColor(0x5b, 0x3c, 0xc4));
    p.setPen(Qt::NoPen);
    p.setBrush(bg);
    p.drawRoundedRect(QRectF(8, 8, 240, 240), 52, 52);

    // Back bubble (tail to the right).
    QPainterPath back;
    back.addRoundedRect(QRectF(104, 62, 112, 84), 30, 30);
    QPainterPath backTail;
    backTail.moveTo(184, 140);
    backTail.lineTo(206, 170);
    backTail.lineTo(160, 144);
    backTail.closeSubpath();
    p.setBrush(QColor(255, 255, 255, 150));
    p.drawPath(back.united(backTail));

    // Front bubble (tail to the left), with three dots.
    QPainterPath front;
    front.addRoundedRect(QRectF(40, 98, 132, 96), 34, 34);
    QPainterPath frontTail;
    frontTail.moveTo(66, 186);
    frontTail.lineTo(46, 222);
    frontTail.lineTo(100, 192);
    frontTail.closeSubpath();
    p.setBrush(Qt::white);
    p.drawPath(front.united(frontTail));
    p.setBrush(QColor(0x4a, 0x5e, 0xdc));
    for (int i = 0; i < 3; ++i) {
        p.drawEllipse(QPointF(76 + i * 30, 146), 10, 10);
    }
    p.end();
    return image;
}

QIcon AppIcon::icon()
{
    QIcon icon;
    for (int size : { 16, 22, 24, 32, 48, 64, 128, 256 }) {
        icon.addPixmap(QPixmap::fromImage(render(size)));
    }
    return icon;
}

} // namespace parley::desktop
