using Microsoft.Data.Sqlite;

namespace Parley.Storage;

/// <summary>
/// One stored message: a session CHAT (seed 001) or a direct message (<see cref="MessageKinds.Direct"/>, issue #4).
/// <c>Body</c> is opaque: the store neither parses nor logs it.
/// </summary>
public sealed record StoredMessage(string SessionId, string Sender, string Recipient, string Body, long SentAt)
{
    /// <summary>Row id, assigned when the message is committed; orders a conversation.</summary>
    public long Id { get; init; }

    public string Kind { get; init; } = MessageKinds.Chat;

    /// <summary>When the recipient's conversation view showed it (direct messages only); null while unread.</summary>
    public long? ReadAt { get; init; }
}

/// <summary>Values of <see cref="StoredMessage.Kind"/> (the <c>kind</c> column).</summary>
public static class MessageKinds
{
    public const string Chat = "chat";
    public const string Direct = "dm";
}

/// <summary>
/// A change to stored direct messages, written by <see cref="HistoryWriter"/> in the same batch as new messages so
/// acknowledgements cost no fsync of their own. <c>Applied</c> is told, on the writer's task, how many messages
/// became delivered by it (the offline queue shrinks by that many).
/// </summary>
public abstract record Receipt(string Recipient, long At, Action<int>? Applied);

/// <summary>The recipient's client holds message <c>Seq</c> (DM_ACK).</summary>
public sealed record DeliveredReceipt(string Recipient, long Seq, long At, Action<int>? Applied) : Receipt(Recipient, At, Applied);

/// <summary>The recipient saw every DM from <c>Sender</c> up to <c>Seq</c> in its conversation view (TALK, READ); read implies delivered.</summary>
public sealed record ReadReceipt(string Recipient, string Sender, long Seq, long At, Action<int>? Applied) : Receipt(Recipient, At, Applied);

/// <summary>Unread direct messages from one sender.</summary>
public sealed record UnreadFrom(string Sender, int Count);

/// <summary>Chat history (seed 001 "Chat History") and direct-message queries (issue #4).</summary>
public sealed class MessageStore(ParleyDatabase database)
{
    private const string Columns = "id, session_id, sender, recipient, body, sent_at, kind, read_at";

    /// <summary>The key both directions of a conversation share: the two IDs, lower-cased and sorted.</summary>
    public static string ConversationKey(string a, string b)
    {
        var x = a.ToLowerInvariant();
        var y = b.ToLowerInvariant();
        return string.CompareOrdinal(x, y) <= 0 ? $"{x} {y}" : $"{y} {x}";
    }

    /// <summary>Up to <paramref name="limit"/> session CHATs between a and b with id greater than <paramref name="afterId"/>, oldest first.</summary>
    public async Task<IReadOnlyList<StoredMessage>> ReadConversationAsync(string a, string b, long afterId, int limit,
        CancellationToken cancellationToken)
    {
        await using var connection = database.OpenConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {Columns} FROM messages
            WHERE conversation = $c AND kind = 'chat' AND id > $after ORDER BY id LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$c", ConversationKey(a, b));
        command.Parameters.AddWithValue("$after", afterId);
        command.Parameters.AddWithValue("$limit", limit);
        return await ReadAllAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The last <paramref name="limit"/> direct messages between a and b, oldest first (seed 002's conversation view).</summary>
    public async Task<IReadOnlyList<StoredMessage>> ReadDirectTailAsync(string a, string b, int limit, CancellationToken cancellationToken)
    {
        await using var connection = database.OpenConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT * FROM (SELECT {Columns} FROM messages
                WHERE conversation = $c AND kind = 'dm' ORDER BY id DESC LIMIT $limit)
            ORDER BY id;
            """;
        command.Parameters.AddWithValue("$c", ConversationKey(a, b));
        command.Parameters.AddWithValue("$limit", limit);
        return await ReadAllAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Unread direct messages to <paramref name="recipient"/> per sender, most first, at most <paramref name="limit"/> senders.</summary>
    public async Task<IReadOnlyList<UnreadFrom>> UnreadAsync(string recipient, int limit, CancellationToken cancellationToken)
    {
        await using var connection = database.OpenConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT sender, COUNT(*) AS n FROM messages
            WHERE recipient = $r COLLATE NOCASE AND kind = 'dm' AND read_at IS NULL
            GROUP BY sender COLLATE NOCASE ORDER BY n DESC, MIN(id) LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$r", recipient);
        command.Parameters.AddWithValue("$limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var counts = new List<UnreadFrom>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            counts.Add(new UnreadFrom(reader.GetString(0), reader.GetInt32(1)));
        }

        return counts;
    }

    /// <summary>Unread direct messages from <paramref name="sender"/> to <paramref name="recipient"/>.</summary>
    public async Task<int> UnreadCountAsync(string recipient, string sender, CancellationToken cancellationToken)
    {
        await using var connection = database.OpenConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM messages WHERE recipient = $r COLLATE NOCASE AND sender = $s COLLATE NOCASE AND kind = 'dm' AND read_at IS NULL;";
        command.Parameters.AddWithValue("$r", recipient);
        command.Parameters.AddWithValue("$s", sender);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Every recipient's undelivered direct messages (the offline queues), read once at start-up.</summary>
    public Dictionary<string, int> UndeliveredCounts()
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT recipient, COUNT(*) FROM messages WHERE kind = 'dm' AND delivered_at IS NULL GROUP BY recipient COLLATE NOCASE;";
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        while (reader.Read())
        {
            counts[reader.GetString(0)] = counts.GetValueOrDefault(reader.GetString(0)) + reader.GetInt32(1);
        }

        return counts;
    }

    /// <summary>Inserts a batch and applies receipts in one transaction: one fsync for the lot (see <see cref="HistoryWriter"/>).</summary>
    internal static void WriteBatch(SqliteConnection connection, IReadOnlyList<StoredMessage> batch, long[] ids,
        IReadOnlyList<Receipt> receipts, int[] applied)
    {
        using var tx = connection.BeginTransaction();
        if (batch.Count > 0)
        {
            Insert(connection, tx, batch, ids);
        }

        for (var i = 0; i < receipts.Count; i++)
        {
            applied[i] = Apply(connection, tx, receipts[i]);
        }

        tx.Commit();
    }

    private static void Insert(SqliteConnection connection, SqliteTransaction tx, IReadOnlyList<StoredMessage> batch, long[] ids)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            INSERT INTO messages(conversation, session_id, sender, recipient, body, sent_at, kind)
            VALUES ($c, $s, $from, $to, $body, $at, $kind) RETURNING id;
            """;
        var c = command.Parameters.Add("$c", SqliteType.Text);
        var s = command.Parameters.Add("$s", SqliteType.Text);
        var from = command.Parameters.Add("$from", SqliteType.Text);
        var to = command.Parameters.Add("$to", SqliteType.Text);
        var body = command.Parameters.Add("$body", SqliteType.Text);
        var at = command.Parameters.Add("$at", SqliteType.Integer);
        var kind = command.Parameters.Add("$kind", SqliteType.Text);
        command.Prepare();
        for (var i = 0; i < batch.Count; i++)
        {
            var m = batch[i];
            c.Value = ConversationKey(m.Sender, m.Recipient);
            s.Value = m.SessionId;
            from.Value = m.Sender;
            to.Value = m.Recipient;
            body.Value = m.Body;
            at.Value = m.SentAt;
            kind.Value = m.Kind;
            ids[i] = (long)command.ExecuteScalar()!;
        }
    }

    /// <summary>Applies one receipt; returns how many messages it made delivered.</summary>
    private static int Apply(SqliteConnection connection, SqliteTransaction tx, Receipt receipt)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.Parameters.AddWithValue("$r", receipt.Recipient);
        command.Parameters.AddWithValue("$at", receipt.At);
        switch (receipt)
        {
            case DeliveredReceipt d:
                command.CommandText = """
                    UPDATE messages SET delivered_at = $at
                    WHERE id = $seq AND recipient = $r COLLATE NOCASE AND kind = 'dm' AND delivered_at IS NULL;
                    """;
                command.Parameters.AddWithValue("$seq", d.Seq);
                return command.ExecuteNonQuery();
            case ReadReceipt r:
                command.Parameters.AddWithValue("$s", r.Sender);
                command.Parameters.AddWithValue("$seq", r.Seq);
                command.CommandText = """
                    UPDATE messages SET delivered_at = $at
                    WHERE recipient = $r COLLATE NOCASE AND sender = $s COLLATE NOCASE AND kind = 'dm' AND delivered_at IS NULL AND id <= $seq;
                    """;
                var delivered = command.ExecuteNonQuery();
                command.CommandText = """
                    UPDATE messages SET read_at = $at
                    WHERE recipient = $r COLLATE NOCASE AND sender = $s COLLATE NOCASE AND kind = 'dm' AND read_at IS NULL AND id <= $seq;
                    """;
                command.ExecuteNonQuery();
                return delivered;
            default:
                throw new ArgumentException($"Unknown receipt {receipt.GetType().Name}.", nameof(receipt));
        }
    }

    private static async Task<IReadOnlyList<StoredMessage>> ReadAllAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var page = new List<StoredMessage>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            page.Add(new StoredMessage(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt64(5))
            {
                Id = reader.GetInt64(0),
                Kind = reader.GetString(6),
                ReadAt = reader.IsDBNull(7) ? null : reader.GetInt64(7),
            });
        }

        return page;
    }
}
