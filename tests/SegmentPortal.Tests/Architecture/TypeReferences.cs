using System.Reflection;
using System.Reflection.Emit;

namespace SegmentPortal.Tests.Architecture;

/// <summary>
/// The types a type of an assembly uses, read by reflection: its base type and interfaces, attributes, fields,
/// properties, events, method and constructor signatures, and every type, method and field its method bodies
/// name (the IL's tokens resolved through the module). Nested types (closures, async state machines) count as
/// their outermost type, so a lambda's reference is reported against the type that wrote it.
/// </summary>
internal static class TypeReferences
{
    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance
        | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Every (outermost type, referenced type) pair of <paramref name="assembly"/>.</summary>
    public static IEnumerable<(Type User, Type Used)> Of(Assembly assembly)
    {
        foreach (var type in assembly.GetTypes())
        {
            var user = Outermost(type);
            foreach (var used in Used(type).SelectMany(Flatten).Distinct())
            {
                yield return (user, used);
            }
        }
    }

    /// <summary>The type itself when it is not nested, else the outermost type that declares it.</summary>
    public static Type Outermost(Type type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }
        return type;
    }

    private static IEnumerable<Type> Used(Type type)
    {
        if (type.BaseType is not null)
        {
            yield return type.BaseType;
        }
        foreach (var i in type.GetInterfaces())
        {
            yield return i;
        }
        foreach (var a in type.GetCustomAttributesData())
        {
            yield return a.AttributeType;
        }
        foreach (var f in type.GetFields(All))
        {
            yield return f.FieldType;
        }
        foreach (var p in type.GetProperties(All))
        {
            yield return p.PropertyType;
        }
        foreach (var e in type.GetEvents(All))
        {
            if (e.EventHandlerType is not null)
            {
                yield return e.EventHandlerType;
            }
        }
        foreach (var m in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            if (m is MethodInfo mi)
            {
                yield return mi.ReturnType;
            }
            foreach (var p in m.GetParameters())
            {
                yield return p.ParameterType;
            }
            foreach (var t in InBody(m))
            {
                yield return t;
            }
        }
    }

    /// <summary>The types a method body names: types, the declaring types of methods and fields, and their signatures.</summary>
    private static IEnumerable<Type> InBody(MethodBase method)
    {
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException)
        {
            il = null;
        }
        if (il is null)
        {
            yield break;
        }
        var typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var module = method.Module;
        var pos = 0;
        while (pos < il.Length)
        {
            OpCode op;
            if (il[pos] == 0xFE)
            {
                op = OpCodesByValue[unchecked((short)(0xFE00 | il[pos + 1]))];
                pos += 2;
            }
            else
            {
                op = OpCodesByValue[il[pos]];
                pos += 1;
            }
            switch (op.OperandType)
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    pos += 1;
                    break;
                case OperandType.InlineVar:
                    pos += 2;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    pos += 8;
                    break;
                case OperandType.InlineSwitch:
                    var count = BitConverter.ToInt32(il, pos);
                    pos += 4 + (4 * count);
                    break;
                case OperandType.InlineType:
                case OperandType.InlineMethod:
                case OperandType.InlineField:
                case OperandType.InlineTok:
                    var token = BitConverter.ToInt32(il, pos);
                    pos += 4;
                    foreach (var t in Resolve(module, token, typeArgs, methodArgs))
                    {
                        yield return t;
                    }
                    break;
                default:
                    // InlineBrTarget, InlineI, InlineShortR, InlineString, InlineSig: a 4-byte operand.
                    pos += 4;
                    break;
            }
        }
    }

    private static IEnumerable<Type> Resolve(Module module, int token, Type[]? typeArgs, Type[]? methodArgs)
    {
        MemberInfo? member;
        try
        {
            member = module.ResolveMember(token, typeArgs, methodArgs);
        }
        catch (Exception ex) when (ex is ArgumentException or BadImageFormatException or TypeLoadException
            or FileNotFoundException or MissingMemberException)
        {
            return [];
        }
        switch (member)
        {
            case Type t:
                return [t];
            case FieldInfo f:
                return f.DeclaringType is null ? [f.FieldType] : [f.DeclaringType, f.FieldType];
            case MethodBase m:
                var types = new List<Type>();
                if (m.DeclaringType is not null)
                {
                    types.Add(m.DeclaringType);
                }
                if (m is MethodInfo mi)
                {
                    types.Add(mi.ReturnType);
                    if (mi.IsGenericMethod)
                    {
                        types.AddRange(mi.GetGenericArguments());
                    }
                }
                types.AddRange(m.GetParameters().Select(p => p.ParameterType));
                return types;
            default:
                return [];
        }
    }

    /// <summary>A type and what it is made of: element types of arrays, by-refs and pointers, generic arguments.</summary>
    private static IEnumerable<Type> Flatten(Type type)
    {
        if (type.HasElementType)
        {
            foreach (var t in Flatten(type.GetElementType()!))
            {
                yield return t;
            }
            yield break;
        }
        if (type.IsGenericParameter)
        {
            yield break;
        }
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            yield return type.GetGenericTypeDefinition();
            foreach (var arg in type.GetGenericArguments())
            {
                foreach (var t in Flatten(arg))
                {
                    yield return t;
                }
            }
            yield break;
        }
        yield return type;
    }
}
