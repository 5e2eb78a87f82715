using Microsoft.Data.Sqlite;

namespace Parley.Storage;

/// <summary>One stored CHAT message. <c>Body</c> is opaque: the store neither parses nor logs it.</summary>
public sealed record StoredMessage(string SessionId, string Sender, string Recipient, string Body, long SentAt)
{
    /// <summary>Row id, assigned when the message is committed; orders a conversation.</summary>
    public long Id { get; init; }
}

/// <summary>Chat history (seed 001 "Chat History"): reads pages of one conversation, oldest first.</summary>
public sealed class MessageStore(ParleyDatabase database)
{
    /// <summary>The key both directions of a conversation share: the two IDs, lower-cased and sorted.</summary>
    public static string ConversationKey(string a, string b)
    {
        var x = a.ToLowerInvariant();
        var y = b.ToLowerInvariant();
        return string.CompareOrdinal(x, y) <= 0 ? $"{x} {y}" : $"{y} {x}";
    }

    /// <summary>Up to <paramref name="limit"/> messages between a and b with id greater than <paramref name="afterId"/>.</summary>
    public async Task<IReadOnlyList<StoredMessage>> ReadConversationAsync(string a, string b, long afterId, int limit,
        CancellationToken cancellationToken)
    {
        await using var connection = database.OpenConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, session_id, sender, recipient, body, sent_at FROM messages
            WHERE conversation = $c AND id > $after ORDER BY id LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$c", ConversationKey(a, b));
        command.Parameters.AddWithValue("$after", afterId);
        command.Parameters.AddWithValue("$limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var page = new List<StoredMessage>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            page.Add(new StoredMessage(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt64(5))
            {
                Id = reader.GetInt64(0),
            });
        }

        return page;
    }

    /// <summary>Inserts a batch in one transaction: one fsync for the lot (see <see cref="HistoryWriter"/>).</summary>
    internal static void InsertBatch(SqliteConnection connection, IReadOnlyList<StoredMessage> batch, long[] ids)
    {
        using var tx = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            INSERT INTO messages(conversation, session_id, sender, recipient, body, sent_at)
            VALUES ($c, $s, $from, $to, $body, $at) RETURNING id;
            """;
        var c = command.Parameters.Add("$c", SqliteType.Text);
        var s = command.Parameters.Add("$s", SqliteType.Text);
        var from = command.Parameters.Add("$from", SqliteType.Text);
        var to = command.Parameters.Add("$to", SqliteType.Text);
        var body = command.Parameters.Add("$body", SqliteType.Text);
        var at = command.Parameters.Add("$at", SqliteType.Integer);
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
            ids[i] = (long)command.ExecuteScalar()!;
        }

        tx.Commit();
    }
}
