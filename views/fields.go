package views

import "github.com/a-h/templ"

// fieldAttrs marks a form field whose value was refused: aria-invalid (the
// stylesheet draws it red) and aria-describedby naming the sentence that
// says why (inputError, textField). Nothing when the field is fine.
func fieldAttrs(errs map[string]string, name string) templ.Attributes {
	if errs[name] == "" {
		return nil
	}
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": fieldErrorID(name)}
}

// fieldErrorID is the element id of a field's error sentence.
func fieldErrorID(name string) string { return "error-" + name }
