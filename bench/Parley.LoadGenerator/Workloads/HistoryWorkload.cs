using System.Diagnostics;
using Parley.Client;
using Parley.LoadGenerator.Hosting;
using Parley.LoadGenerator.Relay;
using Parley.LoadGenerator.Reporting;
using Parley.Protocol.Messages;
using Parley.Storage;

namespace Parley.LoadGenerator.Workloads;

/// <summary>
/// Issue #8's <c>history</c>: how long a K-message conversation takes to reach the client, from HISTORY_REQ sent to
/// HISTORY_END received (seed 001 "Chat History"), over the real protected link. The messages are written into the
/// database before the server starts, through the same group-commit writer the server uses.
/// </summary>
internal static class HistoryWorkload
{
    private const string Reader = "h0";
    private const string Peer = "h1";

    public static async Task<RunResult> RunAsync(string executable, int messages, int size, int repeats, IEnumerable<string> serverArguments,
        CancellationToken cancellationToken)
    {
        await using var host = await ParleyServerHost.StartAsync(executable, [Reader, Peer], serverArguments,
            database => Fill(database, messages, size), cancellationToken).ConfigureAwait(false);
        await using var connection = await ParleyConnection.LogOnAsync(host.ClientOptions(), Reader, ParleyServerHost.Password,
            cancellationToken).ConfigureAwait(false);

        if (messages < 1 || repeats < 1)
        {
            throw new ArgumentException("--messages and --repeats must be at least 1.");
        }

        var times = new List<double>();
        // The first request also pays for JIT and a cold page cache; it is run, then left out.
        for (var run = 0; run <= repeats; run++)
        {
            var started = Stopwatch.GetTimestamp();
            await connection.SendAsync(new HistoryReq(Peer), cancellationToken).ConfigureAwait(false);
            var received = 0;
            var complete = false;
            await foreach (var message in connection.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (message is HistoryResp)
                {
                    received++;
                }
                else if (message is HistoryEnd end)
                {
                    if (received != messages || end.Count != messages)
                    {
                        throw new InvalidOperationException($"History returned {received} messages (HISTORY_END said {end.Count}), not {messages}.");
                    }

                    complete = true;
                    break;
                }
            }

            if (!complete)
            {
                throw new InvalidOperationException($"The link closed ({connection.CloseReason}) after {received} of {messages} history messages.");
            }

            if (run > 0)
            {
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        times.Sort();
        var metrics = new Dictionary<string, double>
        {
            [MetricNames.HistoryMessages] = messages,
            [MetricNames.HistoryMillis] = times[times.Count / 2],
            ["history_ms_min"] = times[0],
            ["history_ms_max"] = times[^1],
        };
        var parameters = new Dictionary<string, double> { ["messages"] = messages, ["size"] = size, ["repeats"] = repeats };
        return new RunResult("history", "parley", parameters, metrics, ["history_ms is the median of the repeats"]);
    }

    private static async Task Fill(ParleyDatabase database, int messages, int size)
    {
        await using var writer = new HistoryWriter(database);
        var sentAt = DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeMilliseconds();
        var body = RelayBody.Create(size, 0);
        var appends = new List<Task<StoredMessage>>(messages);
        for (var i = 0; i < messages; i++)
        {
            // Alternate the speaker as a conversation does; one session holds them all.
            var (from, to) = i % 2 == 0 ? (Reader, Peer) : (Peer, Reader);
            appends.Add(writer.AppendAndWaitAsync(new StoredMessage("bench001", from, to, body, sentAt + i), CancellationToken.None));
        }

        await Task.WhenAll(appends).ConfigureAwait(false);
    }
}
