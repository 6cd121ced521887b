"""The Telegram channel on aiogram 3: translates updates into core events and replies back."""
