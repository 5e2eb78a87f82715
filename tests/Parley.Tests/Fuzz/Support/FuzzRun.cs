using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Xunit.Abstractions;

namespace Parley.Tests.Fuzz.Support;

/// <summary>
/// How many cases a fuzz test tries and from which seed (issue #9). By default each test runs a small bounded
/// number, so the suite stays quick; <c>PARLEY_FUZZ_CASES=N</c> runs N cases in every fuzz test instead (the long
/// run), and <c>PARLEY_FUZZ_SEED=S</c> replays the cases a report named. Every test prints "cases tried: N,
/// failures: M" and its seed, to its test output and to stdout.
/// </summary>
internal static class FuzzRun
{
    public const string CasesVariable = "PARLEY_FUZZ_CASES";
    public const string SeedVariable = "PARLEY_FUZZ_SEED";

    /// <summary>One seed per test process, so every report of a run names the same one.</summary>
    public static ulong Seed { get; } = ulong.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var seed)
        ? seed
        : (ulong)Random.Shared.NextInt64();

    /// <summary>True when <c>PARLEY_FUZZ_CASES</c> asks for a long run.</summary>
    public static bool IsLongRun => CasesFromEnvironment() is not null;

    /// <summary><paramref name="byDefault"/>, or the count <c>PARLEY_FUZZ_CASES</c> asks for.</summary>
    public static int Cases(int byDefault) => CasesFromEnvironment() ?? byDefault;

    /// <summary>
    /// Checks <paramref name="property"/> with FsCheck over <see cref="Cases"/> cases from <see cref="Seed"/>, and
    /// reports the count. A failure names the seed, the failing case (shrunk) and how to replay it.
    /// </summary>
    public static void Check(ITestOutputHelper output, string name, int byDefault, Property property)
    {
        var cases = Cases(byDefault);
        var config = Config.QuickThrowOnFailure
            .WithMaxTest(cases)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(Seed), FSharpOption<int>.None)));
        try
        {
            FsCheck.Check.One(config, property);
        }
        catch (Exception e)
        {
            Report(output, name, cases, [e.Message]);
            throw;
        }

        Report(output, name, cases, []);
    }

    /// <summary>
    /// Samples <paramref name="count"/> cases from <paramref name="generator"/> deterministically from <see cref="Seed"/>
    /// (for the live tests, which run each case against a server rather than inside FsCheck's runner).
    /// </summary>
    public static IReadOnlyList<T> Sample<T>(Gen<T> generator, int count, int size = 50) =>
        [.. generator.Sample(count, new Rnd(Seed), size)];

    /// <summary>
    /// The closing line of a fuzz test: "cases tried: N, failures: M", then each failure, to the test output and to
    /// stdout (shown by <c>dotnet test --logger "console;verbosity=normal"</c>).
    /// </summary>
    public static void Report(ITestOutputHelper output, string name, int tried, IReadOnlyList<string> failures)
    {
        var line = $"fuzz {name}: cases tried: {tried}, failures: {failures.Count} (seed {Seed}; replay with {SeedVariable}={Seed}"
            + (IsLongRun ? $" {CasesVariable}={tried})" : ")");
        output.WriteLine(line);
        Console.WriteLine(line);
        foreach (var failure in failures.Take(10))
        {
            output.WriteLine("  " + failure);
            Console.WriteLine("  " + failure);
        }
    }

    /// <summary>Fails the test when a live run had failures; the report already printed them.</summary>
    public static void AssertNoFailures(IReadOnlyList<string> failures) =>
        Assert.True(failures.Count == 0, $"{failures.Count} failing case(s); the first: {failures.FirstOrDefault()} (seed {Seed})");

    private static int? CasesFromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable(CasesVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;
}
