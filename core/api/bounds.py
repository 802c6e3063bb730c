"""The largest values PostgreSQL's integer columns hold. A number in a request is checked against the column it
reaches, so that a value too large is a 400 naming its field, never an overflow in the database."""

SMALLINT_MAX = 32_767
INT_MAX = 2_147_483_647
BIGINT_MAX = 9_223_372_036_854_775_807
# The last year a date holds: a date lookup on a later year fails in the database layer.
DATE_YEAR_MAX = 9999
