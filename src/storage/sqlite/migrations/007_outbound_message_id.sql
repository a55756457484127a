-- Reports about our mail (DSNs, ARF complaints) name the original by its Message-ID: find it by
-- that (PostgreSQL 010).
CREATE INDEX outbound_header_message_id ON outbound (header_message_id);
