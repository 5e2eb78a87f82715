using BenchmarkDotNet.Running;

// `dotnet run -c Release --project bench/Parley.Benchmarks -- --filter '*'` (docs/PERFORMANCE.md).
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
