#include "widgets/roomlistdelegate.h"

#include "models/roomlistmodel.h"

#include <QApplication>
#include <QPainter>

namespace parley::desktop {

namespace {
constexpr int Padding = 8;

QFont smaller(const QFont& f)
{
    QFont s = f;
    s.setPointSizeF(f.pointSizeF() > 0 ? f.pointSizeF() * 0.9 : 8);
    return s;
}
} // namespace

QSize RoomListDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    Q_UNUSED(index)
    const QFontMetrics fm(option.font);
    const QFontMetrics sm(smaller(option.font));
    return QSize(160, fm.height() + sm.height() + 2 * Padding + 2);
}

void RoomListDelegate::paint(
    QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    opt.text.clear();
    // The platform style draws the selection and hover background.
    QStyle* style = opt.widget ? opt.widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);

    const bool selected = opt.state & QStyle::State_Selected;
    const QPalette::ColorGroup group
        = opt.state & QStyle::State_Active ? QPalette::Active : QPalette::Inactive;
    const QColor text
        = opt.palette.color(group, selected ? QPalette::HighlightedText : QPalette::Text);
    QColor dim = text;
    dim.setAlphaF(0.65);

    const int unread = index.data(RoomListModel::UnreadRole).toInt();
    const auto state = RoomListModel::JoinState(index.data(RoomListModel::JoinStateRole).toInt());
    const QRect r = opt.rect.adjusted(Padding + 2, Padding, -Padding, -Padding);

    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    QFont nameFont = opt.font;
    nameFont.setBold(unread > 0);
    const QFontMetrics fm(nameFont);
    int nameRight = r.right();
    if (unread > 0) {
        QFont badgeFont = smaller(opt.font);
        badgeFont.setBold(true);
        const QFontMetrics bm(badgeFont);
        const QString count = unread > 999 ? QStringLiteral("999+") : QString::number(unread);
        const int h = bm.height() + 2;
        const int w = std::max(h, bm.horizontalAdvance(count) + 10);
        const QRect badge(r.right() - w, r.top() + (fm.height() - h) / 2, w, h);
        painter->setPen(Qt::NoPen);
        painter->setBrush(selected ? opt.palette.color(QPalette::HighlightedText)
                                   : opt.palette.color(QPalette::Highlight));
        painter->drawRoundedRect(badge, h / 2.0, h / 2.0);
        painter->setFont(badgeFont);
        painter->setPen(selected ? opt.palette.color(QPalette::Highlight)
                                 : opt.palette.color(QPalette::HighlightedText));
        painter->drawText(badge, Qt::AlignCenter, count);
        nameRight = badge.left() - 6;
    }
    painter->setFont(nameFont);
    painter->setPen(text);
    const QRect nameRect(r.left(), r.top(), nameRight - r.left(), fm.height());
    painter->drawText(nameRect, Qt::AlignLeft | Qt::AlignVCenter,
        fm.elidedText(index.data(Qt::DisplayRole).toString(), Qt::ElideRight, nameRect.width()));

    QString preview;
    QColor previewColor = dim;
    switch (state) {
    case RoomListModel::JoinState::Joining:
        preview = tr("joining…");
        break;
    case RoomListModel::JoinState::Failed:
        preview = tr("could not join");
        previewColor = selected ? text : QColor(0xd0, 0x30, 0x30);
        break;
    case RoomListModel::JoinState::Joined:
        preview = index.data(RoomListModel::PreviewRole).toString();
        if (preview.isEmpty()) {
            preview = tr("no messages yet");
        }
        break;
    }
    const QFont small = smaller(opt.font);
    const QFontMetrics sm(small);
    painter->setFont(small);
    painter->setPen(previewColor);
    const QRect previewRect(r.left(), nameRect.bottom() + 3, r.width(), sm.height());
    painter->drawText(previewRect, Qt::AlignLeft | Qt::AlignVCenter,
        sm.elidedText(preview, Qt::ElideRight, previewRect.width()));
    painter->restore();
}

} // namespace parley::desktop
