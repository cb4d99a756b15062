#include "widgets/roomswitcherdialog.h"

#include "models/roomlistmodel.h"
#include "widgets/roomlistdelegate.h"

#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QSortFilterProxyModel>
#include <QVBoxLayout>

namespace parley::desktop {

RoomSwitcherDialog::RoomSwitcherDialog(RoomListModel* rooms, QWidget* parent)
    : QDialog(parent)
    , m_filter(new QLineEdit(this))
    , m_list(new QListView(this))
    , m_proxy(new QSortFilterProxyModel(this))
{
    setWindowTitle(tr("Jump to Room"));
    m_proxy->setSourceModel(rooms);
    m_proxy->setFilterRole(RoomListModel::NameRole);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_list->setModel(m_proxy);
    m_list->setItemDelegate(new RoomListDelegate(m_list));
    m_list->setFocusPolicy(Qt::NoFocus);
    m_list->setUniformItemSizes(true);
    m_filter->setPlaceholderText(tr("Room name (Enter opens it, even a new one)"));
    m_filter->setClearButtonEnabled(true);
    m_filter->installEventFilter(this);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_filter);
    layout->addWidget(m_list);
    auto* hint = new QLabel(tr("↑↓ to pick, Enter to go, Esc to close"), this);
    hint->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(hint);
    resize(380, 320);

    connect(m_filter, &QLineEdit::textChanged, this, &RoomSwitcherDialog::onFilterChanged);
    connect(m_list, &QListView::clicked, this, &RoomSwitcherDialog::accept);
    // QDialog only accepts on Enter through a default button; there is none here.
    connect(m_filter, &QLineEdit::returnPressed, this, &RoomSwitcherDialog::accept);
    onFilterChanged(QString());
}

void RoomSwitcherDialog::onFilterChanged(const QString& text)
{
    QString name = text.trimmed();
    if (name.startsWith(QLatin1Char('#'))) {
        name.remove(0, 1);
    }
    m_proxy->setFilterFixedString(name);
    if (m_proxy->rowCount() > 0) {
        m_list->setCurrentIndex(m_proxy->index(0, 0));
    }
}

QString RoomSwitcherDialog::chosenRoom() const
{
    const QModelIndex current = m_list->currentIndex();
    if (current.isValid() && m_proxy->rowCount() > 0) {
        return current.data(RoomListModel::NameRole).toString();
    }
    QString name = m_filter->text().trimmed();
    if (name.startsWith(QLatin1Char('#'))) {
        name.remove(0, 1);
    }
    return name;
}

void RoomSwitcherDialog::accept()
{
    const QString room = chosenRoom();
    if (room.isEmpty()) {
        return;
    }
    Q_EMIT roomChosen(room);
    QDialog::accept();
}

bool RoomSwitcherDialog::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == m_filter && event->type() == QEvent::KeyPress) {
        const auto* key = static_cast<QKeyEvent*>(event);
        if (key->key() == Qt::Key_Up || key->key() == Qt::Key_Down) {
            const int rows = m_proxy->rowCount();
            if (rows > 0) {
                const int step = key->key() == Qt::Key_Up ? -1 : 1;
                const int row = std::clamp(m_list->currentIndex().row() + step, 0, rows - 1);
                m_list->setCurrentIndex(m_proxy->index(row, 0));
            }
            return true;
        }
    }
    return QDialog::eventFilter(watched, event);
}

} // namespace parley::desktop
