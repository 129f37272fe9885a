"""The password policy: long, not guessable (zxcvbn), not one of the published demo ones.

zxcvbn (a maintained port of Dropbox's estimator) ships frequency lists of common
passwords, names and words, and scores how many guesses a password would take; a score of 3
(about 10^8 guesses, "safely unguessable" online) is the floor, with the user's own name and
username counted as known words.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_SCORE = 3

#: The demo district's logins (``app.seed.DEMO_LOGINS``) are printed by ``make run`` and
#: published in the README: they log in only in development mode and are never accepted as
#: a new password.
DEMO_PASSWORDS = frozenset(
    {
        "demo-admin-pass",
        "demo-command-pass",
        "demo-operator-pass",
        "demo-officer-pass",
        "demo-unit-pass",
        "demo-grid-pass",
        "demo-service-pass",
    }
)


def password_problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why ``password`` is refused (bilingual, for the 422), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符 / the password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return (
            f"密码最多 {MAX_LENGTH} 个字符 / the password may have at most {MAX_LENGTH} characters"
        )
    if password in DEMO_PASSWORDS:
        return "演示密码已公开，不能使用 / this is a published demo password"
    inputs = [word for word in user_inputs if word]
    if zxcvbn(password, user_inputs=inputs)["score"] < MIN_SCORE:
        return (
            "密码太常见或太容易猜到 / the password is too common or too easy to guess; "
            "use a longer phrase of unrelated words"
        )
    return None
