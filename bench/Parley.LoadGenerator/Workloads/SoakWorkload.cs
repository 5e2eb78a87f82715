using System.Diagnostics;
using System.Globalization;
using Parley.LoadGenerator.Hosting;
using Parley.LoadGenerator.Workloads.Soak;

namespace Parley.LoadGenerator.Workloads;

/// <summary>
/// Issue #9's soak: N library clients against one fresh real server on loopback for M minutes, each sending a seeded
/// mix of every message a client sends over TCP (docs/PROTOCOL.md §5.1), at a soak's pace, logging off and on as it
/// goes. It reports what was sent, every ERROR, exception and unexpected close, the server's RSS over time, and the
/// delivery of every DM, session CHAT and room message: the run passes only with none lost, none duplicated, no
/// problem of any kind, and memory that stays flat. It stops by itself: after the duration, and a drain deadline.
/// </summary>
internal static class SoakWorkload
{
    public static async Task<SoakOutcome> RunAsync(string executable, SoakParameters parameters, IEnumerable<string> serverArguments,
        CancellationToken cancellationToken)
    {
        if (parameters.Problem() is { } problem)
        {
            throw new ArgumentException(problem);
        }

        // The final drain replays whole conversations (TALK), longer than the default cap of 1000 DMs (§11.5).
        await using var host = await ParleyServerHost.StartAsync(executable, parameters.UserIds(), ["--max-talk-messages", "1000000", .. serverArguments],
            null, cancellationToken).ConfigureAwait(false);
        var world = new SoakWorld(parameters, host.ClientOptions());
        world.Clients = [.. Enumerable.Range(0, parameters.Clients).Select(i => new SoakClient(world, i))];
        world.Start();
        try
        {
            await Task.WhenAll(world.Clients.Select(c => c.PrepareAsync())).ConfigureAwait(false);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            stop.CancelAfter(parameters.Duration);
            abort.CancelAfter(parameters.Duration + parameters.DrainDeadline);
            var started = Stopwatch.GetTimestamp();
            var sampler = new RssSampler(host.ProcessId);
            var progress = new Progress(world);
            var sampling = sampler.RunAsync(parameters.RssInterval, progress.Print, stop.Token);
            await Task.WhenAll(world.Clients.Select(c => Task.Run(() => c.RunAsync(stop.Token, abort.Token), CancellationToken.None))).ConfigureAwait(false);
            await sampling.ConfigureAwait(false);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

            Console.Error.WriteLine("  soak: load stopped; ending sessions, logging everyone on and reading back what each was owed");
            var (history, drainProblem) = await DrainAsync(world, abort.Token, parameters.DrainDeadline).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return new SoakOutcome(parameters, world.Counters, world.Dms.Totals(), ChatAccounting.Totals(world), history, world.Rooms.Totals(),
                RssTrend.From(sampler.Samples, parameters.Duration), sampler.Samples, drainProblem, seconds);
        }
        finally
        {
            foreach (var client in world.Clients)
            {
                client.Dispose();
            }
        }
    }

    private static async Task<(HistoryTotals History, string? Problem)> DrainAsync(SoakWorld world, CancellationToken abort, TimeSpan deadline)
    {
        var history = new HistoryTotals(0, 0, 0, 0, 0);
        try
        {
            await Task.WhenAll(world.Clients.Select(c => c.SettleAsync(abort))).ConfigureAwait(false);
            await Task.WhenAll(world.Clients.Select(c => c.EnsureOnlineAsync(abort))).ConfigureAwait(false);

            // Each ROOMS answer follows every SAY the server relayed to that client before it handled the ROOMS (§5.1);
            // after a second round, every SAY sent before the first round has been received.
            for (var round = 0; round < 2; round++)
            {
                await Task.WhenAll(world.Clients.Select(c => c.BarrierAsync(abort))).ConfigureAwait(false);
            }

            await Task.WhenAll(world.Clients.Select(c => c.ReplayAllAsync(abort))).ConfigureAwait(false);
            history = await ChatAccounting.CheckHistoryAsync(world, abort).ConfigureAwait(false);
            await Task.WhenAll(world.Clients.Select(c => c.LogOffAtEndAsync(abort))).ConfigureAwait(false);
            return (history, null);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            return (history, string.Create(CultureInfo.InvariantCulture, $"the drain did not finish within {deadline.TotalSeconds:0} s"));
        }
        catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException or Client.ParleyClientException)
        {
            return (history, $"the drain failed: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>The line printed with each RSS sample, so a long run shows how it goes.</summary>
    private sealed class Progress(SoakWorld world)
    {
        private long _lastSent;
        private double _lastSeconds;

        public void Print(RssSample sample)
        {
            var sent = world.Counters.SentTotal;
            var rate = sample.Seconds > _lastSeconds ? (sent - _lastSent) / (sample.Seconds - _lastSeconds) : 0;
            (_lastSent, _lastSeconds) = (sent, sample.Seconds);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  soak {TimeSpan.FromSeconds(sample.Seconds):hh\\:mm\\:ss}  server RSS {sample.Bytes / 1048576.0,7:0.0} MiB  sent {sent,9:#,0} ({rate,5:0}/s)  " +
                $"online {world.Online.Count(o => o),3}/{world.Ids.Length}  sessions {world.Board.Live(),3}  DMs {world.Dms.Count,7:#,0}  " +
                $"SAYs {world.Rooms.Count,7:#,0}  problems {world.Counters.Problems}"));
        }
    }
}
