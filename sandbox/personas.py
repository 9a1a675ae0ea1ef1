"""Who a person in the sandbox can be: the merchant, or one of three buyers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    key: str  # in URLs: /api/chats/<key>
    role: str  # "merchant" or "buyer"
    role_zh: str  # what the page's tab says, in Chinese and in English
    role_en: str
    first_name: str  # the Telegram account's name
    username: str
    language_code: str  # the Telegram app's language: the bot answers in it until /language
    phone: str
    color: str  # the avatar's colour on the page (it shows the name's first letter, as Telegram does)


PERSONAS: tuple[Persona, ...] = (
    Persona("merchant", "merchant", "店主", "Merchant", "梅姐", "meijie_farm", "zh", "+8613800138001", "#2fa36b"),
    Persona("buyer1", "buyer", "买家 1", "Buyer 1", "小王", "xiaowang", "zh", "+8613900139001", "#3d7fd9"),
    Persona("buyer2", "buyer", "买家 2", "Buyer 2", "Emma", "emma_buys", "en", "+8613900139002", "#c4579f"),
    Persona("buyer3", "buyer", "买家 3", "Buyer 3", "李阿姨", "auntie_li", "zh", "+8613900139003", "#e08a2c"),
)
