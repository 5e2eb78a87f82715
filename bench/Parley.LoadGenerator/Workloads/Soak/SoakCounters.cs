using System.Collections.Concurrent;
using Parley.Protocol.Messages;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>
/// What the soak's clients sent, per kind, and everything that went wrong: ERRORs received, exceptions, links the
/// server closed, and failed checks of an answer's content. A healthy run has none of the four; each is counted by
/// name, and the first few are printed as they happen (IDs and codes only, never a message body).
/// </summary>
internal sealed class SoakCounters
{
    private const int PrintedProblems = 25;

    private readonly long[] _sent = new long[SoakKinds.All.Length];
    private readonly int[] _claimed = new int[SoakKinds.All.Length + 1];
    private readonly ConcurrentDictionary<string, long> _errors = new();
    private readonly ConcurrentDictionary<string, long> _exceptions = new();
    private readonly ConcurrentDictionary<string, long> _closes = new();
    private readonly ConcurrentDictionary<string, long> _checks = new();
    private long _logOns;
    private long _printed;

    /// <summary>The slot <see cref="TryClaimFirst"/> uses for "a DM to a user who is logged off".</summary>
    public const int OfflineDmClaim = -1;

    public long LogOns => Interlocked.Read(ref _logOns);

    public long Sent(SoakKind kind) => Interlocked.Read(ref _sent[(int)kind]);

    public long SentTotal => Enumerable.Range(0, _sent.Length).Sum(i => Interlocked.Read(ref _sent[i]));

    public IReadOnlyDictionary<string, long> Errors => _errors;

    public IReadOnlyDictionary<string, long> Exceptions => _exceptions;

    public IReadOnlyDictionary<string, long> UnexpectedCloses => _closes;

    public IReadOnlyDictionary<string, long> FailedChecks => _checks;

    /// <summary>ERRORs, exceptions, unexpected closes and failed checks together: zero in a run that passes.</summary>
    public long Problems => _errors.Values.Sum() + _exceptions.Values.Sum() + _closes.Values.Sum() + _checks.Values.Sum();

    public void Counted(SoakKind kind) => Interlocked.Increment(ref _sent[(int)kind]);

    public void LoggedOn() => Interlocked.Increment(ref _logOns);

    /// <summary>
    /// True for exactly one caller per kind (or <see cref="OfflineDmClaim"/>): the client that makes the first use of
    /// a kind nobody has sent yet, so a short run covers every kind without all clients rushing at the rare ones.
    /// </summary>
    public bool TryClaimFirst(int kind) => Interlocked.Exchange(ref _claimed[kind + 1], 1) == 0;

    public bool Claimed(int kind) => Volatile.Read(ref _claimed[kind + 1]) != 0;

    public void ErrorReceived(string clientId, Error error) => Add(_errors, error.Code, $"{clientId}: ERROR {error.Code}: {error.Text}");

    public void ExceptionThrown(string clientId, string during, Exception exception) =>
        Add(_exceptions, $"{during}: {exception.GetType().Name}", $"{clientId}: {during} failed: {exception.GetType().Name}: {exception.Message}");

    public void UnexpectedClose(string clientId, string? reason) => Add(_closes, reason ?? "unknown", $"{clientId}: the link closed unexpectedly ({reason})");

    public void CheckFailed(string clientId, string check, string detail) => Add(_checks, check, $"{clientId}: {check}: {detail}");

    private void Add(ConcurrentDictionary<string, long> counts, string key, string line)
    {
        counts.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (Interlocked.Increment(ref _printed) <= PrintedProblems)
        {
            Console.Error.WriteLine($"  soak problem: {line}");
        }
    }
}
