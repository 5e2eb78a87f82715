using Parley.Client;
using Parley.Protocol.Messages;

namespace Parley.Tests.Support;

/// <summary>Steps the messaging integration tests share: a DM and its confirmation, a TALK, a JOIN, an expected ERROR.</summary>
internal static class MessagingSteps
{
    /// <summary>Rows in the messages table, of one kind ("dm", "chat") or of every kind.</summary>
    public static long StoredRows(InProcessServer server, string? kind = null)
    {
        using var connection = server.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM messages WHERE $kind IS NULL OR kind = $kind;";
        command.Parameters.AddWithValue("$kind", (object?)kind ?? DBNull.Value);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Sends a DM and returns the server's confirmation (the DM is durable once it arrives).</summary>
    public static async Task<DmSent> SendDmAsync(ParleyConnection from, string to, string message, string id)
    {
        await from.SendAsync(new Dm(to, message, id));
        var sent = await from.ExpectAsync<DmSent>();
        Assert.Equal(id, sent.Id);
        return sent;
    }

    /// <summary>
    /// TALK as the reference client does it: the replayed DMs (oldest first) and the TALK_END that closes the replay,
    /// then READ up to the newest DM from the peer, since the replay has been shown.
    /// </summary>
    public static async Task<(List<Dm> Replayed, TalkEnd End)> TalkAsync(ParleyConnection connection, string peer, int limit = 50)
    {
        var (replayed, end) = await ReplayAsync(connection, peer, limit);
        var last = replayed.Where(d => !string.Equals(d.From, connection.ClientId, StringComparison.OrdinalIgnoreCase)).Select(d => d.Seq ?? 0).DefaultIfEmpty().Max();
        if (last > 0)
        {
            await connection.SendAsync(new Read(end.ClientId, last));
        }

        return (replayed, end);
    }

    /// <summary>TALK alone: the replayed DMs and TALK_END, without marking anything read.</summary>
    public static async Task<(List<Dm> Replayed, TalkEnd End)> ReplayAsync(ParleyConnection connection, string peer, int limit = 50)
    {
        await connection.SendAsync(new Talk(peer, limit));
        var replayed = new List<Dm>();
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        while (true)
        {
            switch (await connection.Events.ReadAsync(timeout.Token))
            {
                case Dm dm:
                    replayed.Add(dm);
                    break;
                case TalkEnd end:
                    return (replayed, end);
                case var other:
                    Assert.Fail($"unexpected {other} during a TALK replay");
                    break;
            }
        }
    }

    public static async Task<Joined> JoinAsync(ParleyConnection connection, string room)
    {
        await connection.SendAsync(new Join(room));
        return await connection.ExpectAsync<Joined>();
    }

    public static async Task<Error> ExpectErrorAsync(ParleyConnection connection, ParleyMessage request, string code)
    {
        await connection.SendAsync(request);
        var error = await connection.ExpectAsync<Error>();
        Assert.Equal(code, error.Code);
        return error;
    }

    /// <summary>The next <typeparamref name="T"/>, past any ROOM_NOTICEs of joins that came before it.</summary>
    public static async Task<T> SkipNoticesAsync<T>(ParleyConnection connection)
        where T : ParleyMessage
    {
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        while (true)
        {
            var message = await connection.Events.ReadAsync(timeout.Token);
            if (message is not RoomNotice)
            {
                return Assert.IsType<T>(message);
            }
        }
    }
}
