package analyze

import "os"

func statSize(path string) (int64, error) {
	if path == "-" {
		return 0, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
