"""All SQL lives here. The store returns dataclasses and knows nothing of Telegram."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path

from storage.audience import Audience
from storage.conversations import Conversations
from storage.db import WriteTransaction
from storage.engine import Engine, open_database
from storage.deals import Deals
from storage.flows import Flows
from storage.holds import Holds
from storage.inbox import Inbox
from storage.leases import Leases
from storage.live import Live
from storage.orders import Carts, Orders
from storage.outbox import Outbox
from storage.payments import Payments
from storage.operator import Operator
from storage.privacy import Privacy
from storage.products import Products
from storage.refunds import Refunds
from storage.channels import ShopChats
from storage.claims import Claims
from storage.presale import Presales
from storage.shipping import ShippingRules
from storage.shops import Shops
from storage.staff import Staff
from storage.summaries import Summaries
from storage.users import Users
from storage.variants import Variants
from storage.vitals import VitalSigns


class Store:
    """One object that hands out the repositories over one database."""

    def __init__(self, db: Engine, inbox: Inbox) -> None:
        self.db = db
        self.users = Users(db)
        self.shops = Shops(db)
        self.flows = Flows(db)
        self.inbox = inbox  # a file of its own (storage/inbox.py)
        self.outbox = Outbox(db)
        self.products = Products(db, self.outbox)
        self.variants = Variants(db, self.products)
        self.live = Live(db)
        self.orders = Orders(db, self.products, self.outbox, on_user_changed=self.users.forget)
        self.carts = Carts(db)
        self.holds = Holds(db, self.products)
        self.staff = Staff(db, on_members_changed=self.shops.forget)
        self.payments = Payments(db, self.orders, self.outbox)
        self.refunds = Refunds(db, self.outbox)
        self.shipping = ShippingRules(db)
        self.presales = Presales(db, self.outbox)
        self.claims = Claims(db, self.outbox)
        self.chats = ShopChats(db)
        self.summaries = Summaries(db)
        self.vitals = VitalSigns(db, inbox.db)
        self.privacy = Privacy(db)
        self.operator = Operator(db)
        self.conversations = Conversations(db, self.outbox)
        self.audience = Audience(db, self.outbox)
        self.deals = Deals(db)
        self.leases = Leases(db)  # several workers (PostgreSQL)
        self.shared = db.shared  # other workers may use the database (runtime/workers.py)

    def transaction(self) -> AbstractAsyncContextManager[WriteTransaction]:
        """The one way for a handler or job to change several things together:
        `async with store.transaction() as tx:`, then the repositories' methods that take `tx`
        (`summaries.claim(tx, ...)`, `outbox.enqueue(tx, ...)`), each statement awaited. The body
        runs only its own statements: no Bot API call, no other read, no handler code (storage/db.py
        checks it). A single change has a repository method of its own, which opens one itself."""
        return self.db.write()

    @classmethod
    async def open(cls, target: str | Path) -> "Store":
        """A SQLite file's path, or a `postgresql://` URL."""
        db = await open_database(target)
        return cls(db, await Inbox.open(db))

    async def close(self) -> None:
        await self.inbox.close()
        await self.db.close()
