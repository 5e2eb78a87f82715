using System.Diagnostics;
using Parley.LoadGenerator.Hosting;
using Parley.LoadGenerator.Reporting;

namespace Parley.LoadGenerator.Relay;

/// <summary>
/// The relay workload of issue #8, the same for every <see cref="IRelayTarget"/>: senders take a token, stamp the
/// body with the time and send; receivers subtract. Closed loop, a delivery gives its sender the token back, so each
/// keeps <see cref="RelayParameters.Window"/> in flight. Open loop, one 1 ms ticker hands out tokens on schedule and
/// each body carries its <em>scheduled</em> send time, so a server that falls behind is charged for the wait too
/// (no coordinated omission). Only deliveries inside the measuring window count; the warm-up lets JIT and pools settle.
/// </summary>
internal sealed class RelayWorkload
{
    private readonly RelayParameters _parameters;
    private readonly PairState[] _pairs;
    private long _start;
    private long _measureFrom = long.MaxValue;
    private long _measureUntil = long.MaxValue;
    private long _strays;
    private Exception? _failure;

    private RelayWorkload(RelayParameters parameters)
    {
        _parameters = parameters;
        _pairs = new PairState[parameters.Pairs];
        for (var i = 0; i < _pairs.Length; i++)
        {
            _pairs[i] = new PairState(parameters.Rate is null ? parameters.Window : 0);
        }
    }

    public static async Task<RunResult> RunAsync(IRelayTarget target, RelayParameters parameters, CancellationToken cancellationToken)
    {
        var workload = new RelayWorkload(parameters);
        var links = await target.ConnectAsync(parameters.Pairs, workload.Delivered, cancellationToken).ConfigureAwait(false);
        return await workload.MeasureAsync(target, links, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RunResult> MeasureAsync(IRelayTarget target, IRelayPair[] links, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The open-loop schedule starts now, with every pair connected: a schedule running through the log-ons would
        // start the run with a backlog the warm-up might not drain.
        _start = Stopwatch.GetTimestamp();
        var senders = links.Select((link, i) => SendLoopAsync(link, i, stop.Token)).ToArray();
        var ticker = _parameters.Rate is { } rate ? TickAsync(rate, stop.Token) : Task.CompletedTask;

        await Task.Delay(_parameters.Warmup, cancellationToken).ConfigureAwait(false);
        var pid = target.ServerProcessId;
        var serverCpu = pid is { } p1 ? ProcessStats.CpuMicros(p1) : 0;
        var ownCpu = ProcessStats.OwnCpuMicros();
        var issued = IssuedTotal();
        Volatile.Write(ref _measureUntil, long.MaxValue);
        Volatile.Write(ref _measureFrom, Stopwatch.GetTimestamp());

        await Task.Delay(_parameters.Duration, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _measureUntil, Stopwatch.GetTimestamp());
        var seconds = Stopwatch.GetElapsedTime(_measureFrom, _measureUntil).TotalSeconds;
        serverCpu = pid is { } p2 ? ProcessStats.CpuMicros(p2) - serverCpu : 0;
        ownCpu = ProcessStats.OwnCpuMicros() - ownCpu;
        issued = IssuedTotal() - issued;
        var rss = pid is { } p3 ? ProcessStats.RssBytes(p3) : 0;

        await stop.CancelAsync().ConfigureAwait(false);
        // A sender stuck in a write to a server that stopped reading ends when the target closes its sockets.
        await Task.WhenAny(Task.WhenAll(senders.Append(ticker)), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
        if (Volatile.Read(ref _failure) is { } failure)
        {
            throw new InvalidOperationException($"A {target.Name} sender failed during the run: {failure.Message}", failure);
        }

        return Result(target, seconds, serverCpu, ownCpu, issued, rss);
    }

    private RunResult Result(IRelayTarget target, double seconds, double serverCpu, double ownCpu, long issued, long rss)
    {
        // Receivers keep running until the target closes; each list is copied under its lock.
        var samples = _pairs.Select(p =>
        {
            lock (p.Latencies)
            {
                return p.Latencies.ToList();
            }
        }).ToArray();
        var delivered = samples.Sum(l => l.Count);
        if (samples.Count(l => l.Count == 0) is > 0 and var stalled)
        {
            // A pair whose receiver lost its link, or whose messages the server refused, delivers nothing and would
            // quietly lower the rate.
            throw new InvalidOperationException($"{stalled} of {_pairs.Length} {target.Name} pairs delivered nothing in the measured window.");
        }

        var (p50, p99, p999, max) = LatencySample.Percentiles(samples);
        var metrics = new Dictionary<string, double>
        {
            [MetricNames.Delivered] = delivered,
            [MetricNames.MessagesPerSecond] = delivered / seconds,
            [MetricNames.P50Micros] = p50,
            [MetricNames.P99Micros] = p99,
            [MetricNames.P999Micros] = p999,
            [MetricNames.MaxMicros] = max,
            [MetricNames.GeneratorCpuMicrosPerMessage] = delivered > 0 ? ownCpu / delivered : 0,
        };
        if (_parameters.Rate is not null)
        {
            metrics[MetricNames.OfferedPerSecond] = issued / seconds;
        }

        if (target.ServerProcessId is not null)
        {
            metrics[MetricNames.ServerCpuMicrosPerMessage] = delivered > 0 ? serverCpu / delivered : 0;
            metrics[MetricNames.ServerRssBytes] = rss;
        }

        List<string> notes = [];
        // Environment.ProcessorCount is the CPUs this process may use (one under taskset). A generator using nearly
        // all of them measured itself, not the server: the figure is then a lower bound on the server's.
        var generatorLoad = ownCpu / (seconds * 1_000_000 * Environment.ProcessorCount);
        metrics["generator_cpu_share"] = generatorLoad;
        if (generatorLoad >= 0.9)
        {
            notes.Add($"the load generator used {generatorLoad:P0} of its CPUs: {target.Name}'s msg/s is a lower bound");
        }

        if (Interlocked.Read(ref _strays) is > 0 and var strays)
        {
            notes.Add($"{strays} delivered bodies carried no timestamp of this run");
        }

        return new RunResult("relay", target.Name, _parameters.ToDictionary(), metrics, notes);
    }

    private async Task SendLoopAsync(IRelayPair link, int index, CancellationToken cancellationToken)
    {
        var pair = _pairs[index];
        // Open loop: pair i's k-th message is due at (k + i/P) / (rate/P) seconds, so the pairs' sends interleave evenly.
        var interval = _parameters.Rate is { } rate ? Stopwatch.Frequency * _parameters.Pairs / rate : 0;
        var phase = interval * index / _parameters.Pairs;
        long sent = 0;
        try
        {
            while (true)
            {
                await pair.Tokens.WaitAsync(cancellationToken).ConfigureAwait(false);
                var stamp = interval > 0 ? _start + (long)(phase + (sent * interval)) : Stopwatch.GetTimestamp();
                await link.SendAsync(RelayBody.Create(_parameters.Size, stamp), cancellationToken).ConfigureAwait(false);
                sent++;
            }
        }
        catch (Exception e) when (e is OperationCanceledException || cancellationToken.IsCancellationRequested)
        {
            // The run is over; a write cut short by closing is expected.
        }
        catch (Exception e)
        {
            // A sender that fails mid-run would quietly lower the rate; the run is reported as failed instead.
            Interlocked.CompareExchange(ref _failure, e, null);
        }
    }

    /// <summary>Open loop: every millisecond, gives each pair the tokens its schedule says are due by now.</summary>
    private async Task TickAsync(double rate, CancellationToken cancellationToken)
    {
        var perPair = rate / _parameters.Pairs;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(1));
        try
        {
            do
            {
                var elapsed = Stopwatch.GetElapsedTime(_start).TotalSeconds;
                for (var i = 0; i < _pairs.Length; i++)
                {
                    // Message k of pair i is due at (k + i/P) / perPair seconds, so by now floor(elapsed·perPair − i/P) + 1 are.
                    var due = (long)Math.Floor((elapsed * perPair) - ((double)i / _pairs.Length)) + 1;
                    if (due > _pairs[i].Issued)
                    {
                        _pairs[i].Tokens.Release((int)(due - _pairs[i].Issued));
                        _pairs[i].Issued = due;
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private long IssuedTotal() => _parameters.Rate is null ? 0 : _pairs.Sum(p => Volatile.Read(ref p.Issued));

    /// <summary>Called by the target on the receiver's read loop for each message that arrives.</summary>
    private void Delivered(int index, string body)
    {
        var now = Stopwatch.GetTimestamp();
        var pair = _pairs[index];
        if (RelayBody.ReadTimestamp(body) is not { } sent)
        {
            Interlocked.Increment(ref _strays);
        }
        else if (now >= Volatile.Read(ref _measureFrom) && now <= Volatile.Read(ref _measureUntil))
        {
            lock (pair.Latencies)
            {
                pair.Latencies.Add(now - sent);
            }
        }

        if (_parameters.Rate is null)
        {
            pair.Tokens.Release();
        }
    }

    private sealed class PairState(int initialTokens)
    {
        public SemaphoreSlim Tokens { get; } = new(initialTokens);

        public List<long> Latencies { get; } = new(1 << 16);

        /// <summary>Open loop: tokens handed out so far (written by the ticker only).</summary>
        public long Issued;
    }
}
