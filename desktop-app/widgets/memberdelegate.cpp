#include "widgets/memberdelegate.h"

#include "models/memberlistmodel.h"

#include <QApplication>
#include <QPainter>

namespace parley::desktop {

QSize MemberDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    Q_UNUSED(index)
    return QSize(120, QFontMetrics(option.font).height() + 10);
}

void MemberDelegate::paint(
    QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    opt.text.clear();
    QStyle* style = opt.widget ? opt.widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);

    const bool online = index.data(MemberListModel::OnlineRole).toBool();
    const int dot = QFontMetrics(opt.font).height() / 2;
    const QRect dotRect(opt.rect.left() + 10, opt.rect.center().y() - dot / 2, dot, dot);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    if (online) {
        painter->setPen(Qt::NoPen);
        painter->setBrush(QColor(0x2e, 0xc2, 0x7e));
    } else {
        painter->setPen(QPen(opt.palette.color(QPalette::PlaceholderText), 1.5));
        painter->setBrush(Qt::NoBrush);
    }
    painter->drawEllipse(dotRect);
    painter->setPen(
        online ? opt.palette.color(QPalette::Text) : opt.palette.color(QPalette::PlaceholderText));
    painter->setFont(opt.font);
    const QRect textRect = opt.rect.adjusted(dotRect.right() + 8 - opt.rect.left(), 0, -6, 0);
    painter->drawText(textRect, Qt::AlignLeft | Qt::AlignVCenter,
        opt.fontMetrics.elidedText(
            index.data(Qt::DisplayRole).toString(), Qt::ElideRight, textRect.width()));
    painter->restore();
}

} // namespace parley::desktop
