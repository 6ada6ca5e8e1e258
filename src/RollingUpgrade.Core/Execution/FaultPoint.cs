namespace RollingUpgrade.Execution;

/// <summary>Where a run can be cut short by fault injection (tests of journal and resume).</summary>
internal enum FaultPoint
{
    /// <summary>After the step's intent is journalled, before it runs.</summary>
    BeforeExecute,

    /// <summary>After the step ran, before its outcome is journalled.</summary>
    AfterExecute,

    /// <summary>After the outcome is journalled.</summary>
    AfterRecord,
}
